"""What a view's fast path needs to answer as its DRF view would, without DRF's per-request
machinery: the same negotiation outcome, the same authentication, the renderer's bytes and the
exception handler's errors. The fast paths themselves are the apps' (orders.fast_order,
orders.fast_actions, inventory.fast_reads); core.fast_lane calls them before Django's handler."""

import re
from collections.abc import Callable
from typing import Any

import orjson
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.settings import api_settings

from core.errors import exception_handler
from core.json import FastJSONRenderer

# Accept headers DRF's negotiation answers with the one renderer; an empty header is a 406 there.
FAST_ACCEPT = frozenset(["*/*", "application/json"])
FAST_AUTHORIZATION = re.compile(r"Token ([!-~]{1,40})")
RENDERER = FastJSONRenderer()


def fast_negotiable(request: HttpRequest) -> bool:
    """The Accept header and query are ones DRF answers with its one renderer (no 406, and no
    `?format=`, which DRF may answer 404)."""
    meta = request.META
    accept = meta.get("HTTP_ACCEPT")
    if accept is not None and accept not in FAST_ACCEPT:
        return False
    return not meta.get("QUERY_STRING") or api_settings.URL_FORMAT_OVERRIDE not in request.GET


def _token_authentication() -> TokenAuthentication | None:
    """DRF's authentication when it is exactly one token scheme (the shop's
    accounts.authentication.StrictTokenAuthentication); else None, and no fast path applies."""
    classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    if len(classes) != 1 or not issubclass(classes[0], TokenAuthentication):
        return None
    if classes[0].keyword != "Token":
        return None
    return classes[0]()


def fast_token(request: HttpRequest) -> str | None:
    """The key of a well-formed `Token` header, or None."""
    authorization = FAST_AUTHORIZATION.fullmatch(request.META.get("HTTP_AUTHORIZATION", ""))
    return None if authorization is None else authorization[1]


def fast_user(request: HttpRequest) -> AbstractBaseUser | None:
    """The user of a well-formed, valid `Token` header, found as DRF's token authentication finds
    it (the token cache and its revocation included), and set on the request as DRF sets it.
    None for anything else: the DRF view judges that header (401s, inactive users)."""
    token_key = fast_token(request)
    authentication = _token_authentication()
    if token_key is None or authentication is None:
        return None
    try:
        user, _token = authentication.authenticate_credentials(token_key)
    except AuthenticationFailed:
        return None
    request.user = user
    return user


def fast_no_body(request: HttpRequest, *, empty_object: bool = False) -> bool:
    """No body, or with `empty_object` also `{}` as JSON (what pay and cancel parse and ignore).
    Any other body, even one the view would accept, is the view's to judge."""
    meta = request.META
    if "HTTP_TRANSFER_ENCODING" in meta or "HTTP_CONTENT_LENGTH" in meta:
        return False
    if meta.get("CONTENT_LENGTH") in (None, "", "0"):
        return True
    if not empty_object or meta.get("CONTENT_TYPE") != "application/json":
        return False
    try:
        return orjson.loads(request.body) == {}
    except orjson.JSONDecodeError:
        return False


def fast_answer(
    request: HttpRequest,
    allow: str,
    build: Callable[[AbstractBaseUser], Any],
    code: int = 200,
) -> HttpResponse | None:
    """The view's answer, build(user) rendered with `code` or the handler's error for what it
    raises; None, before any work, when the Accept header, the query or the token is one the
    DRF view should judge. The caller has judged the body."""
    if not fast_negotiable(request):
        return None
    user = fast_user(request)
    if user is None:
        return None
    try:
        data = build(user)
    except Exception as exc:  # noqa: BLE001 - the view's handler gives each its shape
        return fast_error(exc, request, allow)
    return fast_response(data, code, allow)


def fast_response(data: Any, code: int, allow: str) -> HttpResponse:
    """What the DRF view's Response renders: the renderer's bytes, its media type, its Allow."""
    response = HttpResponse(RENDERER.render(data), status=code, content_type="application/json")
    response["Allow"] = allow
    return response


def fast_error(exc: Exception, request: HttpRequest, allow: str) -> HttpResponse:
    """What the DRF view answers for an exception its handler is given."""
    response = exception_handler(exc, {"request": request})
    response["Allow"] = allow
    return response
