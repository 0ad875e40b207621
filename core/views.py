"""The base API view every endpoint derives from."""

from typing import Any

from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.views import APIView

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ShopAPIView(APIView):
    """Parses the body up front, so 415 and parse errors come before any work is done."""

    @classmethod
    def allow_header(cls) -> str:
        """What DRF's Allow header says: Django's View.setup answers HEAD with get. A fast path
        (core.fast_path) answers with it as the view does."""
        return ", ".join(
            method.upper()
            for method in cls.http_method_names
            if hasattr(cls, method) or (method == "head" and hasattr(cls, "get"))
        )

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method in BODY_METHODS:
            has_body = request.META.get("CONTENT_LENGTH", "") not in ("", "0") or (
                "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
            )
            if has_body and not request.content_type:
                raise UnsupportedMediaType("")
            request.data  # noqa: B018 - parse now
