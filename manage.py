#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    # Locust monkey-patches the standard library with gevent at import time; it must happen before
    # Django loads ssl, urllib3 or the database driver, so the loadtest command is detected here.
    if len(sys.argv) > 1 and sys.argv[1] == "loadtest":
        from loadtesting.bootstrap import prepare_gevent, run_loadtest

        prepare_gevent()
        run_loadtest(sys.argv)
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
