"""Plain functions that format API output the way DRF's fields do, without a field per value.

DRF's serializers build field objects and run them per attribute and per row; profiled, that was
most of the CPU of a page of 50 products and a tenth of an order. The output functions in the
apps' apis.py use these instead and are tested to give exactly what their serializer gives; the
serializers stay for input validation and the OpenAPI schema.
"""

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from rest_framework.settings import api_settings

CENTS = Decimal("0.01")


def money(value: Decimal) -> str:
    """A DecimalField(decimal_places=2) with COERCE_DECIMAL_TO_STRING: "12.50"."""
    return f"{value.quantize(CENTS):f}"


def datetime_formatter() -> Callable[[datetime | None], str | None] | None:
    """A DateTimeField's to_representation for this request, or None when only DRF's will do.

    Only the strftime formats are handled here (the shop's "%Y-%m-%dT%H:%M:%SZ"); ISO 8601
    output and a non-string setting fall back to DRF.
    """
    output_format = api_settings.DATETIME_FORMAT
    if not isinstance(output_format, str) or output_format.lower() == "iso-8601":
        return None
    zone = timezone.get_current_timezone()

    def format_datetime(value: datetime | None) -> str | None:
        if not value:
            return None
        return value.astimezone(zone).strftime(output_format)

    return format_datetime
