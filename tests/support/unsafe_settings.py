"""TEST ONLY: the shop with a deliberately unsafe stock step, so that a test can watch the race
check fail (tests/e2e/test_loadtest_unsafe_race.py). Never used by the shop itself: only a
process started with DJANGO_SETTINGS_MODULE=tests.support.unsafe_settings and
UNSAFE_STOCK_FOR_TESTS=1 gets it.

Everything is shop.settings, plus the app tests.support.unsafe_stock, whose ready() swaps the
order's stock step for a read, then a write (tests/support/unsafe_stock.py).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from shop.settings import *  # noqa: F403
from shop.settings import INSTALLED_APPS

if os.environ.get("UNSAFE_STOCK_FOR_TESTS") != "1":
    raise ImproperlyConfigured(
        "tests.support.unsafe_settings oversells on purpose; it loads only with "
        "UNSAFE_STOCK_FOR_TESTS=1 (tests only)."
    )

INSTALLED_APPS = [*INSTALLED_APPS, "tests.support.unsafe_stock.UnsafeStockConfig"]
