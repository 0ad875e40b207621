"""Plain Locust with the harness's traffic mix: `locust -f loadtesting/locustfile.py --host URL`.

The users and their setup are in loadtesting/load/locustfile.py (credentials, logins, think time,
joining a harness master as a worker); this path is the one README and docs/loadtest.md give.
"""

import sys
from pathlib import Path

# `locust -f loadtesting/locustfile.py` puts loadtesting/ on sys.path, not the project.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtesting.load.locustfile import ShopUser  # noqa: E402

__all__ = ["ShopUser"]
