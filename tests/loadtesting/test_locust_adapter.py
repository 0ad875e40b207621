"""Locust's internals, all in loadtesting/load/locust_adapter.py: its check fails, naming the
thing, when a Locust upgrade moves one. Locust runs only in subprocesses here: imported into the
pytest process it would patch threads into greenlets (docs/loadtest.md, "Testing the harness")."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADAPTER = "loadtesting.load.locust_adapter"


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_every_locust_internal_the_harness_uses_is_where_it_expects():
    run = subprocess.run(
        [sys.executable, "-m", ADAPTER], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert run.returncode == 0, run.stdout + run.stderr


def test_the_check_names_what_an_upgrade_moved():
    # given: a Locust in which two of the internals have moved
    moved = (
        "import locust.util.load_locustfile as found, locust.runners as runners\n"
        "del found.is_shape_class\n"
        "del runners.WorkerNodes.all\n"
        f"from {ADAPTER} import check\n"
        "print('\\n'.join(check()))\n"
    )

    run = run_python(moved)

    assert run.returncode == 0, run.stderr
    problems = run.stdout.splitlines()
    assert any("is_shape_class" in problem for problem in problems), problems
    assert any("WorkerNodes.all" in problem for problem in problems), problems


def _locust_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [name for name in names if name == "locust" or name.startswith("locust.")]
    return found


def test_only_the_load_package_imports_locust():
    outside = {
        str(path.relative_to(ROOT)): imports
        for path in sorted((ROOT / "loadtesting").rglob("*.py"))
        if "load" not in path.relative_to(ROOT / "loadtesting").parts[:1]
        and (imports := _locust_imports(path))
    }

    assert outside == {}


def test_the_private_parts_are_touched_only_in_the_adapter():
    private = ("_handlers", "filehandle", "load_locustfile", "argument_parser", "sys.argv =")
    offenders = {
        str(path.relative_to(ROOT)): [word for word in private if word in path.read_text()]
        for path in sorted((ROOT / "loadtesting" / "load").glob("*.py"))
        if path.name != "locust_adapter.py"
    }

    assert {path: words for path, words in offenders.items() if words} == {}


def test_the_harness_up_to_the_load_does_not_import_locust():
    modules = (
        "loadtesting.options, loadtesting.kinds, loadtesting.target, loadtesting.harness, "
        "loadtesting.verdict.document, loadtesting.reports, loadtesting.console, "
        "loadtesting.audit, loadtesting.management.commands.loadtest, loadtesting.load.plan"
    )
    code = (
        "import django, os, sys\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings')\n"
        "django.setup()\n"
        f"import {modules}\n"
        "print('locust' in sys.modules, 'gevent.monkey' in sys.modules and "
        "__import__('gevent.monkey').monkey.is_module_patched('socket'))\n"
    )

    run = run_python(code)

    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "False"]
