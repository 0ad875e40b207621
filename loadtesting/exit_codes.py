"""Exit statuses of `manage.py loadtest` (docs/loadtest.md, "Exit status"); 2 beats 1."""

PASSED = 0
FAILED = 1  # a performance threshold, the recovery probe or a --compare regression
OVERSOLD = 2  # oversell or a broken stock invariant
COULD_NOT_RUN = 3  # server did not start, unreachable or foreign --host, bad options
INTERRUPTED = 130  # Ctrl-C before any load ran


class CannotRun(Exception):
    """The run could not be made; the message is the one line the user sees."""


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) outside the load."""


def worst(codes) -> int:
    """The exit status of several verdicts: 3 and 130 aside, 2 beats 1 beats 0."""
    codes = list(codes)
    for code in (INTERRUPTED, COULD_NOT_RUN, OVERSOLD, FAILED):
        if code in codes:
            return code
    return PASSED
