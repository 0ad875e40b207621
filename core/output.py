"""Plain functions that format API output the way DRF's fields do, without a field per value.

DRF's serializers build field objects and run them per attribute and per row; profiled, that was
most of the CPU of a page of 50 products and a tenth of an order. The output functions in the
apps' apis.py use these instead and are tested to give exactly what their serializer gives; the
serializers stay for input validation and the OpenAPI schema.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone
from rest_framework.settings import api_settings

CENTS = Decimal("0.01")
# The shop's DATETIME_FORMAT (shop/settings.py), which the UTC fast paths below reproduce.
SHOP_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
ZERO = timedelta(0)


def utc_output() -> bool:
    """Whether DRF would show datetimes as SHOP_DATETIME_FORMAT in UTC and decimals as strings:
    then output may be formatted without DRF (or by the database, inventory.selectors)."""
    zone = timezone.get_current_timezone()
    return (
        api_settings.DATETIME_FORMAT == SHOP_DATETIME_FORMAT
        and api_settings.COERCE_DECIMAL_TO_STRING
        and (zone is UTC or (isinstance(zone, ZoneInfo) and zone.key == "UTC"))
    )


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
    if utc_output():

        def format_utc(value: datetime | None) -> str | None:
            if not value:
                return None
            # isoformat is one C call; strftime's %Y does not pad years before 1000.
            if value.utcoffset() == ZERO and value.year >= 1000:
                return f"{value.isoformat()[:19]}Z"
            return value.astimezone(zone).strftime(output_format)

        return format_utc

    def format_datetime(value: datetime | None) -> str | None:
        if not value:
            return None
        return value.astimezone(zone).strftime(output_format)

    return format_datetime
