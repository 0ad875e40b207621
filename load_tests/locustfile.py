"""The brief's `locust -f load_tests/locustfile.py --host=http://localhost:8000 …`.

The same users as the project's plain locustfile (loadtesting/locustfile.py, README "Fixtures
for plain Locust"); this path only picks the credentials and says in one line who the users are:

- LOADTEST_CREDENTIALS=PATH, or else ./loadtest_credentials.json if it exists (the default path
  of `manage.py loadtest prepare`): the full mix with the fixture tokens: browse, order, pay,
  cancel, and the staff's product writes.
- else LOADTEST_USERNAME and LOADTEST_PASSWORD: each user logs in once and shops as that account.
- else: anonymous browsing only (lists, filters, details, /health, /summary), which works
  against a fresh `python run_api.py`; `.venv/bin/python manage.py loadtest prepare` first gives
  the full mix.

A LOADTEST_CREDENTIALS file that is missing or not JSON is one line and exit 1.
"""

import json
import os
import sys
from pathlib import Path

# `locust -f load_tests/locustfile.py` puts load_tests/ on sys.path, not the project.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_CREDENTIALS = "loadtest_credentials.json"
PREPARE = ".venv/bin/python manage.py loadtest prepare"


def _prepare(path: str) -> str:
    """The command that writes `path`."""
    return PREPARE if path == DEFAULT_CREDENTIALS else f"{PREPARE} --credentials {path}"


def _fail(message: str) -> None:
    sys.stderr.write(f"load_tests/locustfile.py: {message}\n")
    sys.stderr.flush()
    sys.exit(1)


def choose_users() -> str:
    """Set LOADTEST_CREDENTIALS when prepare's default file is here; say who the users are."""
    path = os.environ.get("LOADTEST_CREDENTIALS", "").strip()
    if not path and Path(DEFAULT_CREDENTIALS).is_file():
        path = os.environ["LOADTEST_CREDENTIALS"] = DEFAULT_CREDENTIALS
    if path:
        try:
            json.loads(Path(path).read_text())
        except FileNotFoundError:
            _fail(
                f"no credentials file {path} (LOADTEST_CREDENTIALS): run `{_prepare(path)}` first"
            )
        except (OSError, ValueError) as exc:
            _fail(f"cannot read the credentials file {path}: {exc}; run `{_prepare(path)}` again")
        return f"the fixture customers and staff in {path} (the full mix)"
    if os.environ.get("LOADTEST_USERNAME") and os.environ.get("LOADTEST_PASSWORD"):
        return f"{os.environ['LOADTEST_USERNAME']}, logging in once per user (no staff writes)"
    return (
        "anonymous browsing only (no credentials; `"
        + PREPARE
        + "` before this run gives the full mix)"
    )


_USERS = choose_users()
if "--worker" not in sys.argv:
    sys.stderr.write(f"load_tests/locustfile.py: users: {_USERS}\n")

from loadtesting.locustfile import ShopUser  # noqa: E402

__all__ = ["ShopUser"]
