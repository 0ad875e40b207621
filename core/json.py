"""JSON in and out with orjson: faster than the standard library, and strict.

orjson refuses what the contract refuses: bytes that are not UTF-8, NaN and Infinity, integers
beyond 64 bits and nesting deeper than 1024 levels all raise, and become `400 parse_error`.
"""

from typing import Any

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

# Nesting beyond this is not a shape any endpoint accepts; refusing it early costs nothing.
MAX_JSON_DEPTH = 32


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def _default(value: Any) -> Any:
    # Lazy translation strings and other str-like values from Django and DRF.
    return str(value)


class FastJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_default)


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        if not body:
            raise ParseError("The request body is empty; send a JSON document.")
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"The request body is not valid JSON: {exc}") from None
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"The JSON document is nested more than {MAX_JSON_DEPTH} levels deep.")
        return data
