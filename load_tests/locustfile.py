"""The brief's `locust -f load_tests/locustfile.py --host=http://localhost:8000 …`.

The same users and the same setup as the project's plain locustfile (loadtesting/locustfile.py,
README "Fixtures for plain Locust"): LOADTEST_CREDENTIALS, or else ./loadtest_credentials.json
(`manage.py loadtest prepare` writes it), gives the full mix; LOADTEST_USERNAME and
LOADTEST_PASSWORD a login per user; nothing, anonymous browsing only. Its first stderr line says
which; a credentials file that is missing or not JSON is one line and exit 1.
"""

import sys
from pathlib import Path

# `locust -f load_tests/locustfile.py` puts load_tests/ on sys.path, not the project.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtesting.load.locustfile import ShopUser  # noqa: E402

__all__ = ["ShopUser"]
