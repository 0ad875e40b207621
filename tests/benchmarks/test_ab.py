"""`python -m benchmarks.ab`: its options, the order of its rounds, its summary, and one short real
run against HEAD on SQLite (a subprocess: nothing here imports locust)."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.ab import (
    DEFAULT_PHASES,
    PHASES,
    alternation,
    format_overview,
    format_phase,
    parse_args,
    resolve_commit,
    round_record,
    summarize,
)
from benchmarks.report import Phase

ROOT = Path(__file__).resolve().parents[2]


def head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


# --- options -------------------------------------------------------------------------------------


def test_options_default_to_every_phase_and_resolve_the_base():
    commit = head()
    args = parse_args(["--base", commit[:10]])

    assert args.base_commit == commit
    assert args.phases == list(DEFAULT_PHASES)
    assert (args.rounds, args.seconds, args.workers) == (4, 15, 3)
    assert set(DEFAULT_PHASES) <= set(PHASES)


def test_phases_keep_their_order_once_each():
    args = parse_args(["--base", "HEAD", "--phases", "mix, order,mix,order_keyed"])

    assert args.phases == ["mix", "order", "order_keyed"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--base", "no-such-rev-h5"], "is no commit of this repository"),
        (["--base", "HEAD", "--phases", "order,nope"], "unknown phase(s): nope"),
        (["--base", "HEAD", "--phases", ","], "no phase given"),
        (["--base", "HEAD", "--database-url", "mysql://x/y"], "--database-url must be"),
        (["--base", "HEAD", "--database-url", "sqlite://"], "names no database"),
        (["--base", "HEAD", "--redis-url", "http://127.0.0.1:6379"], "--redis-url must be"),
        (["--base", "HEAD", "--redis-url", "redis://127.0.0.1:port"], "does not parse"),
        (["--base", "HEAD", "--redis-url", "redis://127.0.0.1/x"], "must be a number"),
        (["--base", "HEAD", "--rounds", "0"], "--rounds must be at least 1"),
        (["--base", "HEAD", "--seconds", "0"], "--seconds must be at least 1"),
        (["--base", "HEAD", "--workers", "-1"], "--workers must be at least 1"),
        ([], "required: --base"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as raised:
        parse_args(argv)

    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and err.startswith("python -m benchmarks.ab: error: ")


def test_good_urls_pass():
    args = parse_args(
        [
            *("--base", "HEAD", "--redis-url", "none"),
            *("--database-url", "postgres://postgres@127.0.0.1:5432/shop_h5"),
        ]
    )
    assert args.redis_url == "none"
    assert parse_args(["--base", "HEAD", "--redis-url", "redis://127.0.0.1:6379/15"])


def test_a_revision_that_looks_like_an_option_is_no_commit():
    assert resolve_commit("--all") is None
    commit = head()
    assert resolve_commit(commit) == commit


# --- the order of the rounds --------------------------------------------------------------------


def test_rounds_alternate_base_change_change_base():
    assert alternation(1) == [("base", 0), ("change", 0)]
    assert [side for side, _ in alternation(4)] == [
        *("base", "change", "change", "base"),
        *("base", "change", "change", "base"),
    ]


@pytest.mark.parametrize("rounds", [1, 2, 3, 4, 7])
def test_every_round_is_an_adjacent_pair_and_each_side_leads_as_often(rounds):
    order = alternation(rounds)

    assert len(order) == 2 * rounds
    for n in range(rounds):
        pair = order[2 * n : 2 * n + 2]
        assert {side for side, _ in pair} == {"base", "change"}
        assert {r for _, r in pair} == {n}
    leads = [order[2 * n][0] for n in range(rounds)]
    assert abs(leads.count("base") - leads.count("change")) <= 1


# --- the summary ----------------------------------------------------------------------------------


def rounds_of(base: list[tuple], change: list[tuple]) -> list[dict]:
    """(cpu ms, req/s) per round of each side -> round records as the run keeps them."""
    records = []
    for side, figures in (("base", base), ("change", change)):
        for n, (cpu, rps) in enumerate(figures):
            records.append(
                {
                    "side": side,
                    "round": n,
                    "server_cpu_ms": cpu,
                    "rps": rps,
                    "p95_ms": 10.0,
                    "requests": 1000,
                    "failures": 1 if side == "change" and n == 0 else 0,
                }
            )
    return records


def test_summary_medians_ratio_and_spreads():
    summary = summarize(
        rounds_of(
            base=[(8.0, 100.0), (6.0, 120.0), (7.0, 110.0), (9.0, 90.0)],
            change=[(4.0, 200.0), (3.0, 180.0), (3.5, 190.0), (4.5, 150.0)],
        )
    )

    base, change = summary["base"], summary["change"]
    assert base["server_cpu_ms"] == {"median": 7.5, "min": 6.0, "max": 9.0}
    assert change["server_cpu_ms"] == {"median": 3.75, "min": 3.0, "max": 4.5}
    assert base["rps"]["median"] == 105.0 and change["rps"]["median"] == 185.0
    assert summary["ratio"]["server_cpu_ms"] == pytest.approx(0.5)
    assert summary["ratio"]["rps"] == pytest.approx(185 / 105)
    assert summary["ratio"]["p95_ms"] == pytest.approx(1.0)
    # Pairs of the same round: 4/8, 3/6, 3.5/7, 4.5/9 are all 0.5.
    assert summary["pair_ratios"]["server_cpu_ms"] == pytest.approx(
        {"median": 0.5, "min": 0.5, "max": 0.5}
    )
    assert summary["pair_ratios"]["rps"]["min"] == pytest.approx(1.5)  # 180 / 120
    assert summary["pair_ratios"]["rps"]["max"] == pytest.approx(2.0)
    assert (base["rounds"], base["requests"], base["failures"]) == (4, 4000, 0)
    assert change["failures"] == 1


def test_summary_of_an_odd_count_and_of_missing_figures():
    summary = summarize(rounds_of(base=[(2.0, 10.0), (4.0, 30.0), (3.0, 20.0)], change=[]))

    assert summary["base"]["server_cpu_ms"]["median"] == 3.0
    assert summary["change"]["server_cpu_ms"] == {"median": None, "min": None, "max": None}
    assert summary["ratio"]["server_cpu_ms"] is None
    assert summary["pair_ratios"]["rps"]["median"] is None

    unmetered = summarize(rounds_of(base=[(None, 10.0)], change=[(None, 20.0)]))
    assert unmetered["ratio"]["server_cpu_ms"] is None
    assert unmetered["ratio"]["rps"] == pytest.approx(2.0)


def test_a_rounds_record_has_postgresqls_cpu_per_request():
    phase = Phase(name="order", title="POST /orders/", kind="service", rps=300.0, db_cpu=0.6)
    assert round_record("change", 1, phase)["db_cpu_ms"] == pytest.approx(2.0)  # 0.6 / 300

    unmetered = Phase(name="order", title="POST /orders/", kind="service", rps=300.0)
    assert round_record("base", 0, unmetered)["db_cpu_ms"] is None
    rounds = [{**record, "db_cpu_ms": 1.5} for record in rounds_of([(8.0, 100.0)], [(4.0, 200.0)])]
    assert "1.50 (1.50-1.50)" in format_phase("order", summarize(rounds), {})


def test_tables_show_medians_ranges_and_ratios():
    summary = summarize(rounds_of(base=[(8.0, 100.0), (6.0, 120.0)], change=[(4.0, 200.0)]))
    table = format_phase("order: POST /orders/", summary, {"base": "abc1234", "change": "def5678"})

    assert table.splitlines()[0] == "order: POST /orders/"
    assert "base abc1234" in table and "change def5678" in table
    assert "7.00 (6.00-8.00)" in table and "110 (100-120)" in table
    assert "0.57 x" in table  # 4 / 7
    assert "(pairs 0.50-0.50)" in table  # only round 0 has both sides
    assert "1/1000" in table and "0/2000" in table

    overview = format_overview([{"name": "order", "summary": summary}])
    row = "order 7.00 4.00 0.57 x 110 200 1.82 x"
    assert overview.splitlines()[2].split() == row.split()


# --- a real run ----------------------------------------------------------------------------------


def worktrees() -> str:
    return subprocess.run(
        ["git", "worktree", "list", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout


@pytest.mark.slow
def test_ab_against_head_runs_end_to_end(tmp_path):
    """HEAD against this tree, one round of 3 s of three phases on SQLite: both servers answer,
    the rounds ran in order, the JSON has the summary, the keyed orders carried their keys, and
    the worktree is gone."""
    out, db = tmp_path / "ab.json", tmp_path / "ab.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    base = head()  # by hash: another session may commit while this runs
    result = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks.ab", "--base", base),
            *("--rounds", "1", "--seconds", "3", "--workers", "2"),
            *("--users", "4", "--order-clients", "4", "--products", "20"),
            *("--phases", "order,order_keyed,product_list"),
            *("--database-url", f"sqlite:///{db}", "--redis-url", "none"),
            *("--json-out", str(out)),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["format"] == "shop-ab/1"
    assert report["base"]["commit"] == base
    assert [p["name"] for p in report["phases"]] == ["order", "order_keyed", "product_list"]
    for phase in report["phases"]:
        assert [(r["side"], r["round"]) for r in phase["rounds"]] == [("base", 0), ("change", 0)]
        for record in phase["rounds"]:
            assert record["requests"] > 0 and record["failures"] == 0
            assert record["server_cpu_ms"] > 0
        assert phase["summary"]["ratio"]["server_cpu_ms"] > 0
        assert phase["table"] in result.stdout
    assert report["config"]["gunicorn"]["base"]["accesslog"] is None
    assert report["config"]["gunicorn"]["change"]["workers"] == 2
    assert report["invariant"]["ok"] is True
    assert report["overview"] in result.stdout
    with sqlite3.connect(db) as conn:
        keyed = conn.execute("SELECT COUNT(*) FROM orders_order WHERE idempotency_key != ''")
        assert keyed.fetchone()[0] > 0
    assert "shop_ab_" not in worktrees()
