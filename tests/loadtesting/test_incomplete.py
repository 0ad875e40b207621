"""An interrupted run is not a pass, and what could not be judged is said so: a recorded run
goes through the verdict document, the console and the command's last line (no locust)."""

import sys
from dataclasses import replace

from loadtesting.exit_codes import FAILED
from loadtesting.kinds import InteractiveKind
from loadtesting.load.recorder import OK
from loadtesting.management.commands.loadtest import final_line
from loadtesting.options import Options
from loadtesting.verdict import document
from tests.loadtesting.test_reports import START, part_of, printed_report, recorded


def steady(name: str, count: int) -> list:
    return [(START + 1 + i * 0.05, name, 5.0, OK) for i in range(count)]


def interrupted(samples: list):
    result = recorded(samples, interrupted=True)
    result.stop_reason = "interrupted (Ctrl-C)"
    return result


def test_a_run_interrupted_before_its_end_is_incomplete_and_never_passes(tmp_path):
    # given: a quick run whose every threshold would pass, stopped by Ctrl-C after 8 of 10 s
    result = interrupted(steady("POST /orders/", 100))
    result.end = START + 8
    part = part_of("quick", result, tmp_path)

    # when
    verdict = document.build(part, Options(scenario="quick"), {"json": "quick.json"})

    # then
    assert (verdict["complete"], verdict["status"]) == (False, "incomplete")
    assert verdict["exit_code"] == FAILED and verdict["pass"] is False
    [failed] = [check for check in verdict["checks"] if not check["pass"]]
    assert failed["kind"] == "run"
    assert failed["label"] == (
        "Run incomplete: interrupted (Ctrl-C) after 8.0 s of the planned 10s; "
        "the figures cover only that part"
    )
    assert f"[fail] {failed['label']}" in printed_report(verdict)
    assert final_line(verdict) == (
        "Exit status 1: the run is incomplete (stopped before its planned end), so it cannot "
        "pass. The verdict is in quick.json."
    )


def test_a_run_that_reached_its_end_is_complete(tmp_path):
    part = part_of("quick", recorded(steady("POST /orders/", 100)), tmp_path)

    verdict = document.build(part, Options(scenario="quick"), {})

    assert (verdict["complete"], verdict["status"], verdict["exit_code"]) == (True, "complete", 0)
    assert verdict["not_judged"] == []


def test_interactive_finished_with_ctrl_c_is_complete(tmp_path):
    result = interrupted(steady("POST /orders/", 100))
    part = part_of("interactive", result, tmp_path, kind=InteractiveKind())

    verdict = document.build(part, Options(scenario="interactive"), {})

    assert verdict["complete"] is True and verdict["exit_code"] == 0


def test_a_threshold_without_enough_samples_is_reported_as_not_judged(tmp_path):
    # given: POST /orders/ judged (60 samples), GET /products/ only 12
    samples = steady("POST /orders/", 60) + steady("GET /products/", 12)
    part = part_of("quick", recorded(samples), tmp_path)

    verdict = document.build(part, Options(scenario="quick"), {})

    assert verdict["not_judged"] == [
        {
            "label": "p95 of GET /products/: 12 steady-state samples, fewer than 50",
            "threshold": "max_p95_ms",
            "samples": 12,
        }
    ]
    assert "[not judged] p95 of GET /products/: 12 steady-state samples" in printed_report(verdict)
    assert verdict["exit_code"] == 0  # the aggregate and POST /orders/ were judged


def test_a_run_whose_every_threshold_went_unjudged_is_not_a_pass(tmp_path):
    # given: thresholds, and no sample to judge them on
    part = part_of("quick", recorded([]), tmp_path)
    part.scenario = replace(part.scenario, thresholds=replace(part.scenario.thresholds, min_rps=1))

    verdict = document.build(part, Options(scenario="quick"), {"json": "quick.json"})

    assert verdict["thresholds"] == []
    assert {row["threshold"] for row in verdict["not_judged"]} == {
        "max_p95_ms", "max_error_rate", "min_rps",
    }  # fmt: skip
    [failed] = [check for check in verdict["checks"] if not check["pass"]]
    assert failed["label"] == "No threshold could be judged (3 not judged: too few samples)"
    assert verdict["exit_code"] == FAILED


def test_the_last_line_of_a_failed_run_is_a_plain_statement():
    verdict = {
        "exit_code": 2, "complete": True, "reports": {"json": "race.json"},
        "checks": [{"pass": False}],
    }  # fmt: skip
    assert final_line(verdict) == (
        "Exit status 2: oversell or a broken stock invariant. The verdict is in race.json."
    )
    combined = {
        "exit_code": 1, "complete": False, "reports": {"json": "all.json"},
        "parts": [{"scenario": "quick", "pass": False}], "skipped": ["standard"],
    }  # fmt: skip
    assert final_line({**combined, "complete": True}) == (
        "Exit status 1: failed: quick, standard (skipped). The verdict is in all.json."
    )


def test_brings_no_locust_along():
    assert "locust" not in sys.modules
