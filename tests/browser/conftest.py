"""Headless Chromium for the page tests: skipped cleanly where no browser is installed.

`.ci/run` installs Debian's `chromium` when it is missing; set CHROMIUM=/path/to/chrome to use
another build. The browser gets a fresh profile and no network services of its own.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    def __init__(self, binary: str, profile: Path) -> None:
        self.binary, self.profile = binary, profile

    def _run(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.binary, *FLAGS, f"--user-data-dir={self.profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def dom(self, url: str, *, budget_ms: int = 5000) -> str:
        """The DOM after the page's scripts ran (the error hook writes into it)."""
        done = self._run("--virtual-time-budget=" + str(budget_ms), "--dump-dom", url)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "<html" in done.stdout, done.stderr[-2000:]
        return done.stdout

    def console(self, url: str, *, budget_ms: int = 5000) -> tuple[str, list[str]]:
        """The DOM and the page's console errors (Chromium logs them with --enable-logging)."""
        done = self._run(
            "--enable-logging=stderr", "--v=0", f"--virtual-time-budget={budget_ms}",
            "--dump-dom", url,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        errors = [
            line
            for line in done.stderr.splitlines()
            if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)
        ]
        return done.stdout, errors

    def screenshot(self, url: str, path: Path, *, size: str = "1200,2400") -> Path:
        done = self._run(f"--window-size={size}", f"--screenshot={path}", url)
        assert done.returncode == 0 and path.exists(), done.stderr[-2000:]
        return path


def root_attributes(dom: str) -> dict[str, str]:
    """The attributes of <html>: data-js-errors, data-charts-drawn, data-page-ready."""
    match = re.search(r"<html([^>]*)>", dom)
    assert match, "no <html> element"
    return dict(re.findall(r'([\w-]+)="([^"]*)"', match.group(1)))


def js_errors(dom: str) -> str:
    match = re.search(r'<pre id="js-errors"[^>]*>(.*?)</pre>', dom, re.S)
    return match.group(1).strip() if match else ""


@pytest.fixture(scope="session")
def chromium(tmp_path_factory) -> Chromium:
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium installed (apt-get install chromium, or set CHROMIUM)")
    return Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
