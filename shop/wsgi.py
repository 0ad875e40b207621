import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from core.fast_lane import FastLane, routes_of  # noqa: E402 - needs the apps loaded
from core.page_cache import PageCache  # noqa: E402
from core.request_log import RequestLog  # noqa: E402
from inventory import cache as product_cache  # noqa: E402

# Cached anonymous product reads are answered before Django (core/page_cache.py), and so are the
# common orders, payments and cancels, by their views' fast paths (core/fast_lane.py).
page_cache = PageCache(
    django_application, paths=product_cache.PRODUCT_READ_PATH, store=product_cache
)
application = FastLane(page_cache, routes=lambda: routes_of(get_resolver().url_patterns))

if settings.REQUEST_LOG:
    # The development server's request log, outside the page cache so it sees every request.
    application = RequestLog(application)
