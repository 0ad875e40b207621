import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

django_application = get_wsgi_application()

from inventory.page_cache import ProductPageCache  # noqa: E402 - needs the apps loaded

# Cached anonymous product reads are answered before Django (inventory/page_cache.py).
application = ProductPageCache(django_application)
