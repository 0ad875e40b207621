"""Every API path answers with and without its trailing slash, with no redirect."""

from django.contrib import admin
from django.urls import path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.apis import TokenApi
from core.converters import PositiveIdConverter
from core.health import HealthApi
from core.landing import landing, latest_report_page
from inventory.apis import ProductDetailApi, ProductListApi, ProductRestockApi
from orders.apis import OrderCancelApi, OrderDetailApi, OrderListApi, OrderPayApi, SummaryApi

register_converter(PositiveIdConverter, "id")


def both_forms(route: str, view, name: str) -> list:
    """`route` and `route/`; reverse() gives docs/api.md's form (`/products/`, `/health`)."""
    slashed_is_canonical = route in ("products", "orders")
    return [
        path(route, view, name=None if slashed_is_canonical else name),
        path(route + "/", view, name=name if slashed_is_canonical else None),
    ]


api_routes = [
    ("health", HealthApi, "health"),
    ("summary", SummaryApi, "summary"),
    ("auth/token", TokenApi, "auth-token"),
    ("products", ProductListApi, "product-list"),
    ("products/<id:product_id>", ProductDetailApi, "product-detail"),
    ("products/<id:product_id>/restock", ProductRestockApi, "product-restock"),
    ("orders", OrderListApi, "order-list"),
    ("orders/<id:order_id>", OrderDetailApi, "order-detail"),
    ("orders/<id:order_id>/pay", OrderPayApi, "order-pay"),
    ("orders/<id:order_id>/cancel", OrderCancelApi, "order-cancel"),
]

urlpatterns = [
    # Pages for people, not API (not in the schema): what this is, and the latest load-test report.
    path("", landing, name="landing"),
    *both_forms("reports/latest", latest_report_page, "latest-report"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
for route, view, name in api_routes:
    urlpatterns += both_forms(route, view.as_view(), name)

handler400 = "core.errors.handler400"
handler403 = "core.errors.handler403"
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
