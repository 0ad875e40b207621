"""The HTTP ceiling: a bare WSGI app that answers every request with a fixed small JSON body.

Served by the same gunicorn settings as the shop (`gunicorn -c gunicorn.conf.py
benchmarks.bare_wsgi:application`), so the difference between the two is the shop's own work:
Django, DRF, the database and the cache.
"""

BODY = b'{"status": "ok", "checks": {"database": "ok"}, "version": "1.0.0"}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    # Drain a request body, as a real app would, so keep-alive connections stay in step.
    length = environ.get("CONTENT_LENGTH")
    if length and length.isdigit():
        environ["wsgi.input"].read(int(length))
    start_response("200 OK", HEADERS)
    return [BODY]
