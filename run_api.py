"""The brief's `python run_api.py`: the service as `make run` starts it.

    python run_api.py                          # migrate, then gunicorn on 127.0.0.1:8000
    python run_api.py --bind 127.0.0.1:9000    # any gunicorn option after the script's name
    GUNICORN_BIND=127.0.0.1:9000 python run_api.py   # or gunicorn.conf.py's variables

It migrates (`manage.py migrate --noinput`), then runs gunicorn in this process with
gunicorn.conf.py and `shop.wsgi`, from the repository's directory: the settings, the environment
variables and the workers are `make run`'s. `python` may be a Python without Django: this file
then runs itself again with `.venv/bin/python` (same arguments), or says to run `make venv`.

The processes are named `gunicorn: master [shop: python run_api.py]` and `gunicorn: worker
[shop: python run_api.py]`, so the brief's `top -p $(pgrep -d, -f "python run_api.py")` and the
README's `pgrep -f '\\[shop'` find the master and every worker. Ctrl-C or SIGTERM (`kill %1`)
stops it: gunicorn stops its workers and exits 0.
"""

import os
import signal
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
PROGRAM = "run_api.py"
# What gunicorn puts between the brackets of each process's title (the `proc_name` setting).
PROCESS_NAME = "shop: python run_api.py"
# Set on the re-exec, so a .venv whose Python is not a venv cannot make this loop.
REEXEC_MARK = "SHOP_RUN_API_REEXEC"


def _in_project_venv() -> bool:
    return VENV.is_dir() and Path(sys.prefix).resolve() == VENV.resolve()


def _has_requirements() -> bool:
    return all(find_spec(name) is not None for name in ("django", "gunicorn"))


def ensure_project_python() -> None:
    """Re-exec with .venv/bin/python unless this is it; no .venv and no Django: one line, exit 1."""
    if _in_project_venv():
        return
    if VENV_PYTHON.exists() and not os.environ.get(REEXEC_MARK):
        os.environ[REEXEC_MARK] = "1"
        # argv[0] is the venv's python, then the arguments as typed: the command line still
        # reads `…/python run_api.py …`.
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.orig_argv[1:]])
    if not _has_requirements():
        sys.stderr.write(
            f"{PROGRAM}: no virtualenv at {VENV} and this Python ({sys.executable}) lacks Django"
            " and gunicorn: run `make venv` first\n"
        )
        sys.exit(1)


def _stop_on_sigterm(signum, _frame) -> None:
    # Raised inside subprocess.run, this kills the migrate child before exiting.
    raise SystemExit(128 + signum)


def migrate() -> None:
    """`manage.py migrate --noinput` in a child, as `make run` does (the master keeps no
    database connection to hand to its forked workers)."""
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        done = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT)
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if done.returncode != 0:
        sys.exit(done.returncode)


def serve(gunicorn_args: list[str]) -> None:
    """gunicorn in this process: `gunicorn -c gunicorn.conf.py [ARGS] shop.wsgi`."""
    from gunicorn.app.wsgiapp import WSGIApplication

    sys.argv = [
        sys.argv[0],
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--name",
        PROCESS_NAME,
        *gunicorn_args,
        "shop.wsgi",
    ]
    WSGIApplication("%(prog)s [OPTIONS]", prog=f"python {PROGRAM}").run()


def main() -> None:
    ensure_project_python()
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    from shop.startup import exit_on_bad_configuration

    exit_on_bad_configuration(PROGRAM, 1)
    gunicorn_args = sys.argv[1:]
    if not any(arg in ("-h", "--help", "-v", "--version") for arg in gunicorn_args):
        migrate()
    serve(gunicorn_args)


if __name__ == "__main__":
    main()
