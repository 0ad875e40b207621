"""gevent must patch the standard library before Django, ssl, urllib3 or psycopg are imported."""

import sys


def prepare_gevent() -> None:
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()
    import gevent

    # Ctrl-C is handled (stop the load, audit, report); the hub need not print it as an error.
    hub = gevent.get_hub()
    hub.NOT_ERROR = (*hub.NOT_ERROR, KeyboardInterrupt)


def run_loadtest(argv: list[str]) -> None:
    """`manage.py loadtest …`: Ctrl-C while Django is still loading is one line and exit 130."""
    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv)
    except KeyboardInterrupt:
        sys.stderr.write("loadtest: interrupted before any load ran.\n")
        sys.exit(130)
