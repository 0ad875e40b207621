"""Anonymous product reads answered from the cache at the top of the middleware chain.

Profiled, a cached product page still spent most of its CPU in Django's middleware, DRF's dispatch
and re-rendering the cached data. A whole response (body and headers, as the full stack made it)
is cached instead, under the same catalogue version as inventory.cache, and replayed here.

Only what cannot differ between clients takes this path: GET of /products/ or /products/{id}
with no Authorization header (a bad token must still get its 401), no body, and an Accept that
asks for JSON or anything. Everything else, and every miss, goes through the whole stack, which
validates the host, the query parameters and the id; only its 200s are stored.
"""

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from inventory import cache

PRODUCT_READ_PATH = re.compile(r"^/products(?:/[1-9][0-9]{0,18})?/?$")
ANY_JSON = frozenset(["", "*/*", "application/json"])
NO_BODY = frozenset(["", "0"])


def _page_name(request: HttpRequest) -> str:
    # The absolute URL: a page's next/previous links are built from it.
    return "page:" + request.build_absolute_uri()


class ProductPageCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._same_for_everyone(request):
            return self.get_response(request)
        name = _page_name(request)
        version, entry = cache.cached_entry(name)
        if entry is not None:
            body, headers = entry
            response = HttpResponse(body)
            for header, value in headers:
                response[header] = value
            return response
        response = self.get_response(request)
        if version is not None and self._storable(response):
            cache.store_entry(name, version, (response.content, list(response.items())))
        return response

    @staticmethod
    def _same_for_everyone(request: HttpRequest) -> bool:
        meta = request.META
        return (
            cache.enabled()
            and request.method == "GET"
            and "HTTP_AUTHORIZATION" not in meta
            and meta.get("CONTENT_LENGTH", "") in NO_BODY
            and "HTTP_TRANSFER_ENCODING" not in meta
            and meta.get("HTTP_ACCEPT", "") in ANY_JSON
            and PRODUCT_READ_PATH.match(request.path_info) is not None
        )

    @staticmethod
    def _storable(response: HttpResponse) -> bool:
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and "Cookie" not in response.get("Vary", "")
        )
