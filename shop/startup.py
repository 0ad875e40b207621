"""Bad configuration is one line on stderr, before anything else runs.

manage.py (every command, `loadtest` included) and gunicorn.conf.py (the master, before any
worker boots) call `configuration_error()` first: it imports the settings, and a bad variable
(an unparsable or unsupported DATABASE_URL, a database driver that is not installed, a
non-boolean DEBUG...) comes back as one sentence instead of a traceback from deep inside
Django, dj-database-url or a worker.
"""

import os
import sys

from django.core.exceptions import ImproperlyConfigured
from environs import EnvError


def configuration_error() -> str | None:
    """None when the settings load, else the reason in one line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - imports the settings module
    except (ImproperlyConfigured, EnvError, ImportError) as exc:
        return " ".join(str(exc).split())
    return None


def exit_on_bad_configuration(program: str, status: int) -> None:
    """Print `<program>: configuration error: <reason>` and exit with `status` if there is one."""
    error = configuration_error()
    if error is not None:
        sys.stderr.write(f"{program}: configuration error: {error}\n")
        sys.stderr.flush()
        sys.exit(status)
