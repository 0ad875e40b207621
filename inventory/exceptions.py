from core.exceptions import ShopError


class InsufficientStock(ShopError):
    code = "insufficient_stock"
    status_code = 409

    def __init__(self, *, product_id: int, sku: str, requested: int, available: int):
        self.product_id = product_id
        self.requested = requested
        self.available = available
        super().__init__(
            f"Only {available} left of {sku}",
            {"product_id": product_id, "requested": requested, "available": available},
        )


class DuplicateSku(ShopError):
    code = "duplicate_sku"
    status_code = 409

    def __init__(self, sku: str):
        super().__init__(f"A product with SKU {sku} already exists.", {"sku": sku})


class ProductHasOrders(ShopError):
    code = "product_has_orders"
    status_code = 409

    def __init__(self, product_id: int):
        super().__init__(
            "This product has orders and cannot be deleted.", {"product_id": product_id}
        )
