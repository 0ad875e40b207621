"""Page-number pagination with strict parameters and a per-resource items key."""

from collections.abc import Callable
from typing import Any

from django.core.paginator import InvalidPage, Page
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from core.params import MAX_QUERY_INT, positive_int_param

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

# The schema states the bounds positive_int_param enforces, so generated clients stay within them.
PAGE_PARAMETERS = [
    OpenApiParameter("page", {"type": "integer", "minimum": 1, "maximum": MAX_QUERY_INT}),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_QUERY_INT},
        description=f"default {DEFAULT_PAGE_SIZE}, capped at {MAX_PAGE_SIZE}",
    ),
]


class ShopPagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    items_key = "results"  # subclasses name their items: "products", "orders"

    def get_page_size(self, request) -> int:
        size = positive_int_param(request, "page_size")
        return self.page_size if size is None else min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None) -> list:
        page_number = positive_int_param(request, "page") or 1
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        try:
            self.page = paginator.page(page_number)
        except InvalidPage:
            raise NotFound(f"Page {page_number} is out of range.") from None
        self.request = request
        return list(self.page)

    def paginate_rows(self, fetch: Callable[[int, int], tuple[list, int]], request) -> list:
        """paginate_queryset for a page that fetch(offset, limit) reads itself, with the count of
        all pages: (rows, count). An empty page past the first is out of range."""
        page_number = positive_int_param(request, "page") or 1
        size = self.get_page_size(request)
        rows, total = fetch((page_number - 1) * size, size)
        if not rows and page_number > 1:
            raise NotFound(f"Page {page_number} is out of range.")
        paginator = self.django_paginator_class((), size)
        paginator.count = total  # a cached_property: no COUNT(*) of its own
        self.page = Page(rows, page_number, paginator)
        self.request = request
        return rows

    def get_paginated_data(self, data) -> dict[str, Any]:
        return {
            "count": self.page.paginator.count,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            self.items_key: data,
        }

    def get_paginated_response(self, data) -> Response:
        return Response(self.get_paginated_data(data))

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        base = super().get_paginated_response_schema(schema)
        base["properties"][self.items_key] = base["properties"].pop("results")
        base["required"] = ["count", "next", "previous", self.items_key]
        return base
