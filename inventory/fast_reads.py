"""GET /products/ and /products/{id} with a valid token, answered without DRF's per-request
machinery; core.fast_lane calls the views' fast_get before Django (shop/wsgi.py). The views'
own functions build the answer (inventory.apis.product_list_page, product_detail), through the
same cache and selectors, so every rule stays in one place; tests/inventory/test_fast_reads.py
holds the answers equal to the views'.

Anonymous reads are not served here: the page cache (core/page_cache.py) answers those.
Measured in the standard mix, where every client sends its token, product reads were 60 % of the
requests, and Django's and DRF's dispatch the largest share of their CPU."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from accounts import token_cache
from core.fast_path import fast_answer, fast_no_body, fast_token
from core.read_ahead import read_ahead
from inventory import cache as product_cache


def fast_read(
    request: HttpRequest,
    allow: str,
    build: Callable[[], Any],
    cache_name: str,
    product_id: int | None = None,
) -> HttpResponse | None:
    """The view's answer, `build()`, or None, before any work, for a request the DRF view should
    answer (a body, an unusual Accept or `?format=`, a token it would refuse, none at all).
    `build` reads the product cache's entry `cache_name` (of `product_id`'s page); that entry, its
    versions and the token's entry are read from the shared cache in one round trip."""
    if not fast_no_body(request):
        return None
    token_key = fast_token(request)
    keys = product_cache.read_ahead_keys(cache_name, product_id)
    if token_key is not None:
        keys += token_cache.read_ahead_keys(token_key)
    with read_ahead(keys):
        return fast_answer(request, allow, lambda _user: build())
