"""The options phase (loadtesting.options): parsing, and every cross-option check before anything
starts. Bad options are exit 3 with one line (argparse's own exit 2 is overridden); no locust."""

import json
import socket
import sys

import pytest
from django.core.management.base import CommandError

from loadtesting import options as loadtest_options
from loadtesting.exit_codes import COULD_NOT_RUN, CannotRun
from loadtesting.management.commands.loadtest import Command


def parse(*args: str) -> dict:
    return vars(Command().create_parser("manage.py", "loadtest").parse_args(list(args)))


def build(*args: str) -> loadtest_options.Options:
    parsed = parse(*args)
    return loadtest_options.build(parsed["scenario"], parsed)


def test_defaults():
    built = build("quick")

    assert built.scenario == "quick"
    assert (built.host, built.allow_remote, built.workers, built.expect_workers) == (
        None,
        False,
        0,
        0,
    )
    assert str(built.results_dir) == "load_test_results"
    assert (built.seed, built.web_port, built.server_workers) == (42, 8089, 4)
    assert built.overrides == loadtest_options.Overrides()
    assert built.locustfile is None and built.baseline is None


def test_values_are_parsed_into_overrides():
    built = build(
        "custom", "--users", "7", "--spawn-rate", "2.5", "--run-time", "1m30s",
        "--think-time", "0.1,0.3", "--stock", "0", "--max-p95-ms", "250", "--max-error-rate", "1",
        "--min-rps", "20", "--max-rss-growth-pct", "10", "--max-users", "5",
    )  # fmt: skip

    overrides = built.overrides
    assert (overrides.users, overrides.spawn_rate, overrides.run_time) == (7, 2.5, 90.0)
    assert overrides.think_time == (0.1, 0.3)
    assert overrides.stock == 0
    assert (overrides.max_p95_ms, overrides.max_error_rate, overrides.min_rps) == (250, 1, 20)
    assert (overrides.max_rss_growth_pct, overrides.max_users) == (10, 5)
    assert overrides.max_p99_ms is None


def test_one_think_time_is_both_bounds():
    assert build("quick", "--think-time", "0.5").overrides.think_time == (0.5, 0.5)


@pytest.mark.parametrize(
    "args",
    [
        ["nope"],
        ["quick", "--users", "0"],
        ["quick", "--users", "two"],
        ["quick", "--spawn-rate", "0"],
        ["quick", "--run-time", "soon"],
        ["quick", "--run-time", "0s"],
        ["quick", "--think-time", "2,1"],
        ["quick", "--think-time", "nan"],
        ["quick", "--max-p95-ms", "-1"],
        ["quick", "--max-error-rate", "inf"],
        ["quick", "--web-port", "70000"],
        ["interactive", "--web-port", "0"],
        ["quick", "--max-error-rate", "150"],
        ["quick", "--max-error-rate", "-0.5"],
        ["quick", "--spawn-rate", "inf"],
        ["quick", "--stock", "-1"],
        ["custom", "--user-classes", " , "],
        ["quick", "--bogus"],
    ],
    ids=" ".join,
)
def test_bad_values_exit_3(args):
    with pytest.raises(CommandError) as raised:
        parse(*args)

    assert raised.value.returncode == COULD_NOT_RUN


def _refusal(*args: str) -> str:
    with pytest.raises(CommandError) as raised:
        parse(*args)
    return str(raised.value)


def test_spawn_rate_says_one_thing_for_zero_and_below():
    assert _refusal("quick", "--spawn-rate", "0") == "Error: argument --spawn-rate: " + (
        "'0' must be a number greater than 0"
    )
    assert _refusal("quick", "--spawn-rate", "-1").endswith("'-1' must be a number greater than 0")


def test_error_rate_is_a_percentage():
    assert build("quick", "--max-error-rate", "100").overrides.max_error_rate == 100
    assert _refusal("quick", "--max-error-rate", "150").endswith(
        "'150' is not a percentage from 0 to 100"
    )


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["race", "--workers", "2"], "race runs in one process"),
        (["race", "--expect-workers", "3"], "race runs in one process"),
        (["all", "--workers", "2"], "all includes race, which refuses --workers"),
        (["quick", "--user-classes", "A"], "--user-classes needs --locustfile"),
        (["quick", "--locustfile", __file__], "--locustfile runs only with the custom scenario"),
        (["custom", "--locustfile", "/no/such/locustfile.py"], "no such file"),
        (
            ["custom", "--locustfile", __file__, "--expect-workers", "2"],
            "workers from other machines cannot join a --locustfile run",
        ),
        (["quick", "--host", "http://10.1.2.3:8000"], "not a loopback address"),
        (["quick", "--host", "ftp://127.0.0.1"], "must be an http\\(s\\) URL"),
        (["quick", "--host", "http://127.0.0.1:99999"], "invalid port"),
        (["quick", "--compare", "/does/not/exist.json"], "--compare: cannot read"),
    ],
)
def test_what_cannot_run_together_is_refused_before_anything_starts(args, reason):
    with pytest.raises(CannotRun, match=reason):
        build(*args)


def test_a_remote_host_needs_allow_remote():
    assert build("quick", "--host", "http://10.1.2.3:8000", "--allow-remote").host == (
        "http://10.1.2.3:8000"
    )


def test_workers_are_fine_for_the_mix():
    built = build("standard", "--workers", "2", "--expect-workers", "3")

    assert (built.workers, built.expect_workers) == (2, 3)


def test_compare_reads_a_verdict_and_refuses_what_is_not_one(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"scenario": "quick", "total": {"p95_ms": 10, "rps": 5}}))
    not_json, not_verdict = tmp_path / "bad.json", tmp_path / "other.json"
    not_json.write_text("{")
    not_verdict.write_text("[1, 2]")

    assert build("quick", "--compare", str(good)).baseline["total"]["rps"] == 5
    with pytest.raises(CannotRun, match="is not JSON"):
        build("quick", "--compare", str(not_json))
    with pytest.raises(CannotRun, match="is not a loadtest verdict"):
        build("quick", "--compare", str(not_verdict))


def test_locustfile_and_the_worker_command_that_runs_the_same_classes():
    built = build("custom", "--locustfile", __file__, "--user-classes", "A,B", "--workers", "2")

    assert built.locustfile.class_names == ("A", "B")
    assert built.locustfile.path.is_absolute()
    command = built.worker_command(5557)
    assert command[0] == sys.executable
    assert command[2:] == [
        "loadtest", "--worker-process", "--master-port", "5557",
        "--locustfile", str(built.locustfile.path), "--user-classes", "A,B",
    ]  # fmt: skip


def test_the_shop_worker_command_has_no_locustfile():
    assert "--locustfile" not in build("quick").worker_command(1)


def test_the_options_bring_no_locust_along():
    assert "locust" not in sys.modules


def test_busy_ports_are_refused_before_anything_starts():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])

        with pytest.raises(CannotRun, match=f"Port {port} is busy"):
            build("interactive", "--web-port", port)
        with pytest.raises(CannotRun, match=f"Cannot listen on 127.0.0.1:{port}"):
            build("quick", "--workers", "2", "--master-port", port)
        # a port only another scenario would use is no reason to refuse
        assert build("quick", "--web-port", port).web_port == int(port)
        assert build("quick", "--master-port", port).master_port == int(port)
