from core.exceptions import ShopError


class OrderNotPayable(ShopError):
    code = "order_not_payable"
    status_code = 409

    def __init__(self, *, order_id: int, status: str, expired: bool = False):
        reason = "its hold has expired" if expired else f"it is {status}"
        super().__init__(
            f"Order {order_id} cannot be paid: {reason}.",
            {"order_id": order_id, "status": status, "expired": expired},
        )


class OrderNotYours(ShopError):
    """Paying someone else's order; the same 403 shape as any permission refusal."""

    code = "permission_denied"
    status_code = 403
    default_message = "Only the customer who placed an order can pay for it."

    def __init__(self, *, order_id: int):
        self.order_id = order_id
        super().__init__()


class OrderNotCancellable(ShopError):
    code = "order_not_cancellable"
    status_code = 409

    def __init__(self, *, order_id: int, status: str):
        super().__init__(
            f"Order {order_id} cannot be cancelled: it is {status}.",
            {"order_id": order_id, "status": status},
        )


class IdempotencyKeyReused(ShopError):
    code = "idempotency_key_reused"
    status_code = 422
    default_message = "This Idempotency-Key was already used with a different request body."


class UnknownProducts(ShopError):
    code = "invalid"
    status_code = 400

    def __init__(self, product_ids: list[int]):
        self.product_ids = product_ids
        listed = ", ".join(str(pid) for pid in product_ids)
        super().__init__(f"No product with id {listed}.", {"product_ids": product_ids})
