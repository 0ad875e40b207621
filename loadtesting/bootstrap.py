"""gevent must patch the standard library before Django, ssl, urllib3 or psycopg are imported."""


def prepare_gevent() -> None:
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()
