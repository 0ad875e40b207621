"""Strict reading of known query parameters: a bad value is `400 invalid`, never ignored.

`request` is DRF's Request or Django's HttpRequest (a fast path's): both have `GET`, the
QueryDict DRF's `query_params` is."""

from rest_framework.exceptions import ValidationError

BOOLEAN_WORDS = {"true": True, "1": True, "false": False, "0": False}
MAX_QUERY_INT = 2**31


def positive_int_param(request, name: str) -> int | None:
    raw = request.GET.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1 or int(raw) > MAX_QUERY_INT:
        raise ValidationError({name: [f"Must be a positive integer, got {raw[:50]!r}."]})
    return int(raw)


def bool_param(request, name: str) -> bool | None:
    raw = request.GET.get(name)
    if raw is None:
        return None
    value = BOOLEAN_WORDS.get(raw.strip().lower())
    if value is None:
        raise ValidationError({name: [f"Must be true or false, got {raw[:50]!r}."]})
    return value


def choice_param(request, name: str, choices: list[str]) -> str | None:
    raw = request.GET.get(name)
    if raw is None:
        return None
    if raw not in choices:
        raise ValidationError({name: [f"Must be one of {', '.join(choices)}; got {raw[:50]!r}."]})
    return raw


def text_param(request, name: str, max_length: int = 200) -> str | None:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_length or "\x00" in raw:
        raise ValidationError({name: [f"Must be at most {max_length} printable characters."]})
    return raw
