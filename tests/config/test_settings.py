"""Settings: parsed by environs, nothing created on disk at import, no unused pinned package."""

from pathlib import Path

from tests.config.helpers import PYTHON, REPO, clean_env, run

NO_DISK_WRITES = """
import builtins, os, pathlib
def refuse(*args, **kwargs):
    raise AssertionError(f"created on disk at settings import: {args!r}")
real_open = builtins.open
def guarded_open(file, mode="r", *args, **kwargs):
    if any(flag in mode for flag in "wax+"):
        refuse(file, mode)
    return real_open(file, mode, *args, **kwargs)
pathlib.Path.mkdir = refuse
pathlib.Path.touch = refuse
os.mkdir = os.makedirs = refuse
builtins.open = guarded_open
import shop.settings
print("imported", shop.settings.STATIC_ROOT)
"""


def test_importing_settings_creates_nothing(tmp_path):
    static_root = tmp_path / "static"
    env = clean_env(tmp_path, STATIC_ROOT=str(static_root), LOG_FILE=str(tmp_path / "api.log"))
    result = run([PYTHON, "-c", NO_DISK_WRITES], env)
    assert result.returncode == 0, result.stderr
    assert not static_root.exists()
    assert not (tmp_path / "api.log").exists()


def test_a_missing_static_root_is_no_warning(tmp_path):
    # WhiteNoise warns about a missing STATIC_ROOT; a fresh clone has none, and needs none.
    env = clean_env(tmp_path, STATIC_ROOT=str(tmp_path / "nothing-here"))
    code = (
        "import django, warnings; warnings.simplefilter('error'); django.setup()\n"
        "from django.test import Client; print(Client().get('/health').status_code)"
    )
    result = run(
        [PYTHON, "-W", "error::UserWarning", "-c", code],
        env | {"DJANGO_SETTINGS_MODULE": "shop.settings"},
    )
    assert "No directory at" not in result.stderr
    assert result.returncode == 0, result.stderr


def test_settings_parse_through_environs():
    text = (REPO / "shop" / "settings.py").read_text()
    assert "from environs import Env" in text
    assert "os.environ.get(" not in text.replace('os.environ.get(name, "")', "")


def test_every_pinned_service_package_is_imported_somewhere():
    """requirements/base.txt pins nothing the code does not use (django-redis was pinned idle)."""
    imports = {
        "django": "django",
        "djangorestframework": "rest_framework",
        "dj-database-url": "dj_database_url",
        "environs": "environs",
        "drf-spectacular": "drf_spectacular",
        "drf-spectacular-sidecar": "drf_spectacular_sidecar",
        "gunicorn": "gunicorn",
        "psycopg[binary,pool]": "psycopg",
        "psycopg-pool": "psycopg_pool",
        "whitenoise": "whitenoise",
        "orjson": "orjson",
        "redis": "redis",
        "setproctitle": "setproctitle",
    }
    pinned = [
        line.split("==")[0].lower()
        for line in (REPO / "requirements" / "base.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert "django-redis" not in pinned
    for package in pinned:
        assert package in imports, f"{package} is pinned: say what uses it"
    sources = "\n".join(
        path.read_text()
        for path in REPO.rglob("*.py")
        if ".venv" not in path.parts and "tests" not in path.parts
    )
    used_indirectly = {
        # Django loads these from settings strings, gunicorn from its own code.
        "drf_spectacular_sidecar": '"drf_spectacular_sidecar"',
        "gunicorn": "gunicorn",
        "psycopg": "django.db.backends.postgresql",
        "psycopg_pool": "psycopg",
        "whitenoise": "whitenoise.middleware",
        "redis": "core.redis_cache.RedisCache",
        "setproctitle": "proc_name",
        "dj_database_url": "dj_db_url",
    }
    for package in pinned:
        module = imports[package]
        marker = used_indirectly.get(module, f"import {module}")
        assert marker in sources or f"from {module}" in sources, f"{package} looks unused"
    assert Path(REPO / "gunicorn.conf.py").exists()
