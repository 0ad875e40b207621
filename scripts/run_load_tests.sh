#!/usr/bin/env bash
# Thin wrapper: ./scripts/run_load_tests.sh <scenario> [options] is `manage.py loadtest`, with the
# same words and the same exit status (0 pass, 1 threshold, 2 oversell, 3 could not run,
# 130 interrupted). With LOADTEST_HOST set, the load goes to that server (--host "$LOADTEST_HOST")
# instead of one the harness starts: the brief's server-in-terminal-1, load-in-terminal-2 flow.
set -euo pipefail
cd "$(dirname "$0")/.."

python=python3
if [ -x .venv/bin/python ]; then
    python=.venv/bin/python
fi

args=("$@")
if [ -n "${LOADTEST_HOST:-}" ]; then
    args+=(--host "$LOADTEST_HOST")
fi

exec "$python" manage.py loadtest "${args[@]}"
