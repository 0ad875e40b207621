"""OpenAPI hooks: document each route once, in the form docs/api.md writes it."""

CANONICAL_SLASHED = {"/products/", "/orders/"}


def one_form_per_route(endpoints: list, **kwargs) -> list:
    """Every route also answers with (or without) a trailing slash; the schema lists one form."""
    documented = []
    for endpoint in endpoints:
        path = endpoint[0]
        if path.startswith("/api/"):
            continue
        slashed = path.endswith("/")
        if slashed == (path in CANONICAL_SLASHED or path.rstrip("/") + "/" in CANONICAL_SLASHED):
            documented.append(endpoint)
    return documented
