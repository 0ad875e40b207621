"""Bad configuration is one clear line on stderr, before anything happens (issue 12).

`manage.py loadtest` then exits 3 ("could not run"), every other command and gunicorn exit 1.
"""

import pytest

from tests.config.helpers import GUNICORN, PYTHON, clean_env, run

BAD_URLS = {
    "garbage": ("garbage", "DATABASE_URL is not a database URL"),
    "mysql": ("mysql://shop:secret@127.0.0.1:3306/shop", "mysql:// is not supported"),
}

COMMANDS = {
    "runserver": (["manage.py", "runserver", "127.0.0.1:0", "--noreload"], 1),
    "migrate": (["manage.py", "migrate", "--noinput"], 1),
    "check": (["manage.py", "check"], 1),
    "create_api_user": (["manage.py", "create_api_user", "someone"], 1),
    "loadtest race": (["manage.py", "loadtest", "race"], 3),
    "loadtest quick": (["manage.py", "loadtest", "quick", "--run-time", "5s"], 3),
}


def assert_one_line(result, expected_text: str, expected_status: int) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == expected_status, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "configuration error" in lines[0] and expected_text in lines[0]
    assert "secret" not in result.stderr + result.stdout  # the URL's password is never echoed


@pytest.mark.parametrize("url_name", BAD_URLS)
@pytest.mark.parametrize("command", COMMANDS)
def test_manage_py_says_one_line(tmp_path, command, url_name):
    url, text = BAD_URLS[url_name]
    args, status = COMMANDS[command]
    results = tmp_path / "results"
    if args[1] == "loadtest":
        args = [*args, "--results-dir", str(results)]
    result = run([PYTHON, *args], clean_env(tmp_path, DATABASE_URL=url))
    assert_one_line(result, text, status)
    # nothing happened first: no database file, no results directory
    assert not (tmp_path / "db.sqlite3").exists()
    assert not results.exists()


@pytest.mark.parametrize("url_name", BAD_URLS)
def test_run_load_tests_script_says_one_line(tmp_path, url_name):
    url, text = BAD_URLS[url_name]
    result = run(
        ["./scripts/run_load_tests.sh", "race", "--results-dir", str(tmp_path / "results")],
        clean_env(tmp_path, DATABASE_URL=url),
    )
    assert_one_line(result, text, 3)
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("url_name", BAD_URLS)
def test_gunicorn_says_one_line_before_any_worker(tmp_path, url_name):
    url, text = BAD_URLS[url_name]
    env = clean_env(tmp_path, DATABASE_URL=url, GUNICORN_BIND="127.0.0.1:0")
    result = run([GUNICORN, "-c", "gunicorn.conf.py", "shop.wsgi"], env, timeout=30)
    assert_one_line(result, text, 1)
    assert "Booting worker" not in result.stdout + result.stderr


def test_a_bad_boolean_names_its_variable(tmp_path):
    result = run([PYTHON, "manage.py", "check"], clean_env(tmp_path, DEBUG="maybe"))
    assert_one_line(result, '"DEBUG"', 1)


def test_an_empty_variable_means_its_default(tmp_path):
    env = clean_env(tmp_path, DEBUG="", DATABASE_URL="", SECURE_HSTS_SECONDS="", REDIS_URL="")
    result = run([PYTHON, "manage.py", "check"], env)
    assert result.returncode == 0, result.stderr


def test_postgres_without_its_driver_says_so(tmp_path):
    # A settings import with psycopg hidden, as on a machine where it is not installed.
    code = (
        "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg2'] = None\n"
        "import importlib.util; real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name.startswith('psycopg')"
        " else real(name, *a)\n"
        "from shop.startup import configuration_error; print(configuration_error())"
    )
    env = clean_env(tmp_path, DATABASE_URL="postgres://shop:secret@127.0.0.1:5432/shop")
    result = run([PYTHON, "-c", code], env)
    assert result.returncode == 0, result.stderr
    assert "PostgreSQL, but its driver is not installed" in result.stdout
    assert "secret" not in result.stdout
