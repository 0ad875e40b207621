"""End to end: `loadtest clean` removes the credentials file that `prepare` wrote (its default path
in the working directory, or --credentials PATH), says where it looked when there is none, and
never removes a file that is not one."""

import json
import subprocess

import pytest

from tests.e2e.test_loadtest import PYTHON, ROOT, TIMEOUT_S

pytestmark = pytest.mark.e2e


def loadtest_in(cwd, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "loadtest", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def test_clean_removes_the_default_credentials_file_then_says_there_is_none(env, tmp_path):
    # given: prepare wrote its credentials file in the working directory
    prepared = loadtest_in(tmp_path, env, "prepare")
    assert prepared.returncode == 0, prepared.stderr
    credentials = tmp_path / "loadtest_credentials.json"
    assert json.loads(credentials.read_text())["customers"]

    # when
    cleaned = loadtest_in(tmp_path, env, "clean")

    # then
    assert cleaned.returncode == 0, cleaned.stderr
    assert "Removed the credentials file loadtest_credentials.json." in cleaned.stdout
    assert not credentials.exists()
    again = loadtest_in(tmp_path, env, "clean")
    assert again.returncode == 0, again.stderr
    assert "No credentials file at loadtest_credentials.json" in again.stdout
    assert "give clean the same --credentials PATH" in again.stdout


def test_clean_with_credentials_path_keeps_a_file_that_is_not_one(env, tmp_path):
    # given: prepare's file elsewhere, and an unrelated file
    credentials = tmp_path / "elsewhere" / "tokens.json"
    prepared = loadtest_in(tmp_path, env, "prepare", "--credentials", str(credentials))
    assert prepared.returncode == 0, prepared.stderr
    unrelated = tmp_path / "notes.json"
    unrelated.write_text('{"mine": true}\n')

    # when
    cleaned = loadtest_in(tmp_path, env, "clean", "--credentials", str(credentials))
    kept = loadtest_in(tmp_path, env, "clean", "--credentials", str(unrelated))

    # then
    assert f"Removed the credentials file {credentials}." in cleaned.stdout
    assert not credentials.exists()
    assert kept.returncode == 0, kept.stderr
    assert f"Kept {unrelated}: it is not a credentials file that prepare wrote." in kept.stdout
    assert unrelated.read_text() == '{"mine": true}\n'
