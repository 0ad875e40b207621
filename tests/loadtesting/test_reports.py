"""The report writers and the console on a recorded run: a small LoadResult goes through the
verdict document, the JSON file, the run's log and the printed report (no locust, no server)."""

import io
import json
import logging
import sys
from pathlib import Path

from django.core.management.color import no_style

from loadtesting import console, reports
from loadtesting.kinds import OwnUsersKind, Part, RaceKind, kind_for
from loadtesting.load.plan import LoadResult
from loadtesting.load.recorder import OK, STOCK_OUT
from loadtesting.options import Options
from loadtesting.scenarios import Locustfile, Overrides, resolve
from loadtesting.target import Target
from loadtesting.verdict import document

START = 1_700_000_000.0
DATABASE = {"engine": "sqlite3", "name": "/tmp/db.sqlite3"}
AUDIT = {
    "before": None,
    "after": {"ok": True, "products_checked": 3, "negative_stock": 0, "mismatched_products": 0},
    "ledger": {"ok": True, "products": 1, "units_seen_sold": 2, "violations": []},
    "health_after": {"ok": True, "status": 200, "reason": "ok"},
    "ok": True,
}


def recorded(samples: list, **extra) -> LoadResult:
    return LoadResult(
        ran=True,
        stop_reason="run time reached",
        start=START,
        steady_start=START + 1,
        end=START + 11,
        samples=samples,
        locust_totals={"requests": len(samples), "failures": 0},
        user_classes=["ShopUser"],
        generator={"process": "this harness", "cpu_seconds": 0.5, "avg_cpu_pct": 5.0},
        **extra,
    )


def part_of(name: str, result: LoadResult, tmp_path: Path, kind=None) -> Part:
    scenario = resolve(name, Overrides(run_time=10))
    target = Target("http://127.0.0.1:8123", True, DATABASE, 4321, 2)
    part = Part(scenario, kind or kind_for(scenario), tmp_path / f"{name}_20260101_000000", target)
    part.result, part.audit = result, dict(AUDIT)
    return part


def printed_report(verdict: dict, *, stock_outs: bool = True) -> str:
    stream = io.StringIO()
    console.print_verdict(console.Console(stream, no_style()), verdict, stock_outs=stock_outs)
    return stream.getvalue()


def test_a_recorded_quick_run_is_written_and_printed_as_one_verdict(tmp_path):
    # given: 100 steady-state requests, 10 of them stock-outs, and one in the ramp-up
    samples = [(START + 0.5, "GET /products/", 900.0, OK)]
    samples += [
        (START + 1 + i * 0.1, "POST /orders/", float(i + 1), STOCK_OUT if i < 10 else OK)
        for i in range(100)
    ]
    part = part_of("quick", recorded(samples), tmp_path)
    files = reports.part_files(part.base, {"locust_html": str(part.base) + "_locust.html"})

    # when
    verdict = document.build(part, Options(scenario="quick"), files)
    path = part.base.with_suffix(".json")
    reports.write_json(path, verdict)
    text = printed_report(verdict)

    # then: the figures are exact over the steady state
    assert json.loads(path.read_text()) == json.loads(json.dumps(verdict, default=str))
    total = verdict["total"]
    assert (total["requests"], total["steady_requests"], total["stock_outs"]) == (101, 100, 10)
    assert (total["p95_ms"], total["max_ms"], total["rps"]) == (95.0, 100.0, 10.0)
    assert verdict["start"] == "2023-11-14T22:13:20.000Z"
    assert verdict["steady_state"] == {"start": "2023-11-14T22:13:21.000Z", "seconds": 10.0}
    assert verdict["options"]["run_time_s"] == 10
    assert verdict["reports"] == {
        "html": str(part.base) + ".html",
        "locust_html": str(part.base) + "_locust.html",
        "samples": str(part.base) + "_samples.json",
        "index": str(part.base.parent / "index.html"),
        "log": str(part.base) + ".log",
        "json": str(path),
    }
    # quick: per-endpoint p95 (POST /orders/ has 100 samples, GET /products/ none steady)
    labels = [check["label"].split(":")[0] for check in verdict["checks"]]
    assert labels == [
        "p95 of POST /orders/", "p95 of all requests", "error rate",
        "No overselling", "Client ledger", "/health after the load",
    ]  # fmt: skip
    assert verdict["pass"] is True and verdict["exit_code"] == 0
    # and what the JSON says is what the console said
    for check in verdict["checks"]:
        assert f"[ok] {check['label']}" in text
    assert "Total requests: 101" in text
    assert "Stock-outs (409 insufficient_stock, not failures): 10" in text
    assert "95th percentile: 95ms" in text
    assert "Verdict: PASS (exit 0)" in text
    assert text.index(files["html"]) < text.index(files["log"]) < text.index(files["json"])


def test_a_race_verdict_has_the_race_checks_and_its_options(tmp_path):
    samples = [(START + i * 0.001, "POST /orders/", 5.0, OK) for i in range(3)]
    part = part_of("race", recorded(samples), tmp_path)
    part.race = {
        "product_id": 9, "users": 3, "stock": 5, "expected_created": 3, "expected_refused": 0,
        "created": 3, "refused": 0, "others": {}, "final_stock": 2, "expected_final_stock": 2,
    }  # fmt: skip

    verdict = document.build(part, Options(scenario="race", workers=2), {})

    assert isinstance(part.kind, RaceKind)
    assert [check["kind"] for check in verdict["checks"]][:4] == ["race"] * 4
    assert verdict["thresholds"] == []
    assert verdict["options"]["workers"] == 0
    assert verdict["options"]["hard_timeout_s"] == 10 and "run_time_s" not in verdict["options"]
    assert verdict["race"]["created"] == 3


def test_an_own_locustfile_on_any_api_prints_the_skipped_audit_and_no_stock_outs(tmp_path):
    samples = [(START + 2, "GET /items", 3.0, OK)]
    kind = OwnUsersKind(Locustfile(Path("/x/locustfile.py")))
    part = part_of("custom", recorded(samples), tmp_path, kind)
    part.audit = {"skipped": "The oversell audit was skipped: ..."}

    verdict = document.build(part, Options(scenario="custom"), {})
    text = printed_report(verdict, stock_outs=kind.count_stock_outs)

    assert [check["kind"] for check in verdict["checks"]] == []
    assert verdict["options"]["locustfile"] == "/x/locustfile.py"
    assert verdict["options"]["think_time_s"] is None
    assert "The oversell audit was skipped" in text
    assert "stock-outs" not in text.lower()


def test_all_combines_the_worst_exit_code_and_skipped_parts_fail(tmp_path):
    parts = [
        {"scenario": "quick", "exit_code": 0, "pass": True, "start": "a", "end": "b"},
        {"scenario": "standard", "exit_code": 1, "pass": False, "start": "c", "end": "d"},
    ]
    path = tmp_path / "all.json"

    combined = document.combined(parts, path)
    stream = io.StringIO()
    console.print_combined(console.Console(stream, no_style()), combined)

    assert combined["skipped"] == ["race", "stress"]
    assert (combined["exit_code"], combined["start"], combined["end"]) == (1, "a", "d")
    assert "[fail] race: skipped (interrupted)" in stream.getvalue()
    assert "Verdict: FAIL (exit 1)" in stream.getvalue()


def test_unique_base_never_overwrites_a_report(tmp_path):
    (tmp_path / "quick_1.json").write_text("{}")

    assert reports.unique_base(tmp_path, "quick_1") == tmp_path / "quick_1_2"
    assert reports.unique_base(tmp_path, "quick_2") == tmp_path / "quick_2"


def test_the_run_log_holds_the_console_and_the_server_output(tmp_path):
    children = tmp_path / "children.log"
    run_log = reports.RunLog(children)
    out = console.Console(io.StringIO(), no_style())
    try:
        run_log.open(tmp_path / "one.log")
        out.mirror = True
        out.write("== target")
        children.write_bytes(b"[gunicorn] Listening\n")
        run_log.copy_children("server output")
        run_log.copy_children("server output")  # nothing new: nothing copied
    finally:
        run_log.close()
        logging.getLogger().handlers.clear()

    text = (tmp_path / "one.log").read_text()
    assert "loadtest: == target" in text
    assert text.count("---- server output ----") == 1
    assert "[gunicorn] Listening" in text


def test_the_writers_bring_no_locust_along():
    assert "locust" not in sys.modules
