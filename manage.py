#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# `manage.py loadtest` exits 3 when the run could not be made (README, "Reading the verdict");
# every other command exits 1.
LOADTEST_COULD_NOT_RUN = 3


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "runserver":
        # The development server logs every request itself (core/request_log.py); under
        # gunicorn, gunicorn's access log does.
        os.environ.setdefault("REQUEST_LOG", "1")
    # Locust monkey-patches the standard library with gevent at import time; it must happen before
    # Django loads ssl, urllib3 or the database driver, so the loadtest command is detected here.
    if command == "loadtest":
        from loadtesting.bootstrap import prepare_gevent, run_loadtest

        prepare_gevent()
        from shop.startup import exit_on_bad_configuration

        exit_on_bad_configuration("loadtest", LOADTEST_COULD_NOT_RUN)
        run_loadtest(sys.argv)
        return
    from shop.startup import exit_on_bad_configuration

    exit_on_bad_configuration(f"manage.py {command}".strip(), 1)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
