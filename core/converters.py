"""Path converters."""

MAX_ID = 2**63 - 1


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
