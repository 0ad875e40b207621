"""Helpers the hostile-input tests share: the size limit, the error-shape check, a raw send."""

MIB = 1024 * 1024


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    return error


def send(client, method: str, path: str, raw: bytes | str, content_type="application/json", **kw):
    return client.generic(method, path, raw, content_type=content_type, **kw)
