"""The error shape as OpenAPI components, so every documented operation lists its errors."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorBody = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(help_text="stable snake_case code"),
                "message": serializers.CharField(),
                "details": serializers.DictField(),
            },
        )
    },
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorBody, description=description)


ERROR_RESPONSES = {
    400: _error("invalid or parse_error"),
    401: _error("not_authenticated or authentication_failed"),
    403: _error("permission_denied"),
    404: _error("not_found"),
    405: _error("method_not_allowed"),
    406: _error("not_acceptable"),
    409: _error("a conflict with the current state"),
    413: _error("payload_too_large"),
    415: _error("unsupported_media_type"),
    422: _error("idempotency_key_reused"),
    429: _error("throttled"),
    503: _error("unavailable"),
}
