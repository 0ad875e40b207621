"""What an order request may carry: the body's two forms (one line, or 1 to 100 lines), their
limits, the Idempotency-Key header, and the errors that point back into the body. The views
(orders.apis) and the fast path (orders.fast_order) both hold requests to these."""

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from core.fields import StrictIntegerField, StrictSerializer

MAX_LINES = 100
MAX_LINE_QUANTITY = 1000
MAX_PRODUCT_ID = 2**63 - 1
IDEMPOTENCY_KEY_MAX = 255


class OrderLineInputSerializer(StrictSerializer):
    product_id = StrictIntegerField(min_value=1, max_value=MAX_PRODUCT_ID)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class OrderLinesInputSerializer(StrictSerializer):
    """Schema only: the several-lines form of an order body."""

    items = serializers.ListField(
        child=OrderLineInputSerializer(), min_length=1, max_length=MAX_LINES
    )


class OrderPlaceInputSerializer(StrictSerializer):
    """Either one line ({"product_id", "quantity"}) or several ({"items": [...]})."""

    product_id = StrictIntegerField(min_value=1, max_value=MAX_PRODUCT_ID, required=False)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, required=False)
    items = OrderLineInputSerializer(many=True, required=False)

    def to_internal_value(self, data):
        lines = data.get("items") if isinstance(data, dict) else None
        if isinstance(lines, list) and not 1 <= len(lines) <= MAX_LINES:
            # Count first: validating a megabyte of lines only to refuse them costs a second of CPU.
            raise ValidationError({"items": [f"An order has 1 to {MAX_LINES} lines."]})
        try:
            return super().to_internal_value(data)
        except ValidationError as exc:
            # DRF keys line errors by index; the contract nests them like the body, one per line.
            line_errors = exc.detail.get("items") if isinstance(exc.detail, dict) else None
            if isinstance(line_errors, dict) and isinstance(data.get("items"), list):
                exc.detail["items"] = [line_errors.get(i, {}) for i in range(len(data["items"]))]
            raise

    def validate_items(self, items: list) -> list:
        if not 1 <= len(items) <= MAX_LINES:
            raise ValidationError(f"An order has 1 to {MAX_LINES} lines.")
        return items

    def validate(self, attrs: dict) -> dict:
        single = {"product_id", "quantity"} & set(attrs)
        if "items" in attrs and single:
            raise ValidationError("Send either product_id and quantity, or items; not both.")
        if "items" not in attrs:
            missing = {"product_id", "quantity"} - single
            if missing:
                raise ValidationError({name: ["This field is required."] for name in missing})
        return attrs

    @staticmethod
    def lines(attrs: dict) -> list[tuple[int, int]]:
        if "items" in attrs:
            return [(line["product_id"], line["quantity"]) for line in attrs["items"]]
        return [(attrs["product_id"], attrs["quantity"])]


def unknown_product_details(body: dict, product_ids: list[int]) -> dict:
    """Point at the offending lines the way the body is nested."""
    message = ["No such product."]
    if "items" in body:
        return {
            "items": [
                {"product_id": message} if line.get("product_id") in product_ids else {}
                for line in body["items"]
            ]
        }
    return {"product_id": message}


def idempotency_key_valid(key: str) -> bool:
    return 1 <= len(key) <= IDEMPOTENCY_KEY_MAX and key.isprintable() and key.isascii()


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not idempotency_key_valid(key):
        raise ValidationError(
            {"Idempotency-Key": [f"Must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters."]}
        )
    return key
