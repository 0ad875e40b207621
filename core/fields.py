"""Strict serializer fields: JSON types as docs/api.md writes them, and no unknown fields."""

import re
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class TextField(serializers.CharField):
    """A CharField whose schema says what it refuses: DRF turns away NUL characters (PostgreSQL
    cannot store them), and a schema-valid body must not be refused."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        # The same rule as DRF's ProhibitNullCharactersValidator, in a form the schema shows.
        self.validators = [
            validator
            for validator in self.validators
            if not isinstance(validator, ProhibitNullCharactersValidator)
        ]
        self.validators.append(
            RegexValidator(
                r"^[^\x00]*$", "Null characters are not allowed.", "null_characters_not_allowed"
            )
        )


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: "2", 2.0 and true are refused."""

    default_error_messages = {"invalid": "Must be a JSON integer."}

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:
            self.fail("invalid")
        return super().to_internal_value(data)


MONEY_PATTERN = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"


@extend_schema_field({"type": "string", "format": "decimal", "pattern": MONEY_PATTERN})
class StrictMoneyField(serializers.DecimalField):
    """Money as docs/api.md writes it, a decimal string ("12.50"): no floats, signs or exponents."""

    default_error_messages = {"invalid": 'Must be a decimal string such as "12.50".'}

    def __init__(self, **kwargs: Any):
        super().__init__(max_digits=10, decimal_places=2, min_value=0, **kwargs)

    def to_internal_value(self, data: Any):
        if type(data) is not str or not re.fullmatch(MONEY_PATTERN, data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Unknown or read-only fields are an error, not silently dropped; text must be a string."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: [self.unknown_field_message(name)] for name in unknown}
                )
            # DRF's CharField would turn 12 into "12": a number is not a name, a SKU or a password.
            not_text = [
                name
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and data.get(name) is not None
                and type(data[name]) is not str
            ]
            if not_text:
                raise serializers.ValidationError(
                    {name: ["Must be a JSON string."] for name in not_text}
                )
        return super().to_internal_value(data)

    def unknown_field_message(self, name: str) -> str:
        return "This field is not accepted here."

    @classmethod
    def validated(cls, data: Any) -> dict[str, Any]:
        serializer = cls(data=data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class StrictSerializerSchema(OpenApiSerializerExtension):
    """In the schema, a strict serializer's request body allows no other properties."""

    target_class = StrictSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema
