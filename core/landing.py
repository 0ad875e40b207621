"""`GET /`: what this service is and where to go next; HTML for browsers, JSON on request.

Also the admin's "View site" link (admin.site.site_url is "/"). Plain Django views, not DRF
APIViews, so they stay out of the OpenAPI schema: they are pages for people, not the API.
`/reports/latest` serves the newest load-test report page under load_test_results/, when one
exists (`manage.py loadtest` writes them there); nothing else from that folder is served.
"""

from pathlib import Path

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from core.errors import error_response

PAGES = (
    ("docs", "/api/docs/", "API documentation (Swagger UI)"),
    ("schema", "/api/schema/", "OpenAPI schema, the full contract"),
    ("admin", "/admin/", "Admin: products, stock, orders"),
    ("health", "/health", "Health check"),
    ("summary", "/summary", "Counts and the stock audit"),
)
LATEST_REPORT_URL = "/reports/latest"
SAFE_METHODS = ("GET", "HEAD")


def latest_report(results_dir: Path | None = None) -> Path | None:
    """The newest harness report page in the results folder: not the run history (index.html),
    nor Locust's own report beside each page (<base>_locust.html)."""
    folder = Path(results_dir or settings.LOADTEST_RESULTS_DIR)
    try:
        pages = [
            path
            for path in folder.glob("*.html")
            if path.name != "index.html" and not path.name.endswith("_locust.html")
        ]
        return max(pages, key=lambda path: path.stat().st_mtime, default=None)
    except OSError:
        return None


def method_not_allowed() -> JsonResponse:
    response = error_response(405, "method_not_allowed", "Only GET is allowed here.")
    response["Allow"] = ", ".join(SAFE_METHODS)
    return response


def landing(request: HttpRequest) -> HttpResponse:
    if request.method not in SAFE_METHODS:
        return method_not_allowed()
    report = latest_report()
    links = {name: url for name, url, _title in PAGES}
    links["latest_report"] = LATEST_REPORT_URL if report else None
    wants = request.get_preferred_type(["text/html", "application/json"])
    if wants == "application/json" or (
        wants is None and "application/json" in request.headers.get("Accept", "")
    ):
        return JsonResponse(
            {
                "name": "shop",
                "description": settings.SPECTACULAR_SETTINGS["DESCRIPTION"],
                "version": settings.VERSION,
                "links": links,
                "latest_report_file": report.name if report else None,
            }
        )
    context = {
        "version": settings.VERSION,
        "description": settings.SPECTACULAR_SETTINGS["DESCRIPTION"],
        "pages": [{"url": url, "title": title} for _name, url, title in PAGES],
        "report": report.name if report else None,
        "report_url": LATEST_REPORT_URL,
    }
    response = render(request, "core/landing.html", context)
    response["Vary"] = "Accept"
    return response


def latest_report_page(request: HttpRequest) -> HttpResponse:
    if request.method not in SAFE_METHODS:
        return method_not_allowed()
    report = latest_report()
    if report is None:
        return error_response(
            404, "not_found", "No load-test report yet: run `manage.py loadtest quick`."
        )
    return FileResponse(report.open("rb"), content_type="text/html; charset=utf-8")
