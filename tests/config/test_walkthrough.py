"""The README's curl walk-through, run as printed against a real gunicorn (issue 12): the
product search shows the user's own product, and the retried order says Idempotent-Replayed."""

import re
import shutil
import subprocess

import pytest

from loadtesting.server import GunicornServer, scrubbed_env
from tests.config.helpers import PYTHON, README_TEXT, REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="curl and jq"),
]


def walkthrough_script() -> str:
    section = README_TEXT[README_TEXT.index("### Trying it with curl") :]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    assert blocks[0].strip() == "make run"
    return blocks[1]


def test_walkthrough_as_printed(tmp_path):
    env = scrubbed_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    # A load-test fixture named like the user's product must not be what the search shows.
    subprocess.run(
        [PYTHON, "manage.py", "shell", "-c",
         "from inventory.models import Product; Product.objects.create(sku='LT-P-0001',"
         " name='WhiteSmoke Eco Teapot', price='9.99', stock=50, units_received=50)"],
        cwd=REPO, env=env, check=True,
    )  # fmt: skip
    with GunicornServer.start(cwd=REPO, env=env, workers=2) as server:
        script = walkthrough_script().replace("http://localhost:8000", server.url)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert '"insufficient_stock"' in out
    statuses = re.findall(r"^HTTP/1\.1 (\d+)", out, re.MULTILINE)
    assert statuses == ["201", "201"], out
    assert re.search(r"^Idempotent-Replayed: true", out, re.MULTILINE | re.IGNORECASE), out
    ids = re.findall(r'^\{"id":(\d+)', out, re.MULTILINE)
    assert len(ids) == 2 and ids[0] == ids[1], out  # the replay is the same order
    assert '"name": "Teapot"' in out and "WhiteSmoke" not in out
    assert '"paid"' in out
