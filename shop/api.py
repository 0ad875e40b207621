"""Pieces shared by every API view: the base view, strict fields, path converters."""

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.views import APIView

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_ID = 2**63 - 1


class ShopAPIView(APIView):
    """Parses the body up front, so 415 and parse errors come before any work is done."""

    def initial(self, request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method in BODY_METHODS:
            has_body = request.META.get("CONTENT_LENGTH", "") not in ("", "0") or (
                "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
            )
            if has_body and not request.content_type:
                raise UnsupportedMediaType("")
            request.data  # noqa: B018 - parse now


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: "2", 2.0 and true are refused."""

    default_error_messages = {"invalid": "Must be a JSON integer."}

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Unknown or read-only fields are an error, not silently dropped."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [self.unknown_field_message(name)] for name in unknown}
                )
        return super().to_internal_value(data)

    def unknown_field_message(self, name: str) -> str:
        return "This field is not accepted here."

    @classmethod
    def validated(cls, data: Any) -> dict[str, Any]:
        serializer = cls(data=data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class PositiveIdConverter:
    """Path ids are positive 64-bit integers; anything else does not match (404)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(value)
