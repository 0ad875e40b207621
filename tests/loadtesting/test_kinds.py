"""The kinds of scenario (loadtesting.kinds): what each one does differently, asked of its class.
Their load methods import locust and run only inside a load; nothing here calls them."""

import io
import socket
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management.color import no_style

from loadtesting.console import Console
from loadtesting.exit_codes import CannotRun
from loadtesting.kinds import (
    AUDIT_SKIPPED,
    InteractiveKind,
    MixKind,
    OwnUsersKind,
    Part,
    RaceKind,
    kind_for,
)
from loadtesting.options import Options
from loadtesting.scenarios import Locustfile, Overrides, resolve
from loadtesting.target import Target

LOCUSTFILE = Locustfile(Path("/x/my_locustfile.py"), ("Browser",))


def scenario(name: str, **overrides):
    return resolve(name, Overrides(**overrides))


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("quick", MixKind),
        ("standard", MixKind),
        ("stress", MixKind),
        ("custom", MixKind),
        ("race", RaceKind),
        ("interactive", InteractiveKind),
    ],
)
def test_each_scenario_runs_as_its_kind(name, kind):
    assert type(kind_for(scenario(name))) is kind


def test_a_locustfile_makes_it_your_own_users():
    kind = kind_for(scenario("custom"), LOCUSTFILE)

    assert isinstance(kind, OwnUsersKind) and kind.locustfile is LOCUSTFILE
    assert kind.locustfile_name(scenario("custom")) == "/x/my_locustfile.py"


def test_what_each_kind_says_about_itself():
    mix, race = MixKind(), RaceKind()
    interactive, own = InteractiveKind(), OwnUsersKind(LOCUSTFILE)

    assert [kind.allows_workers for kind in (mix, race, interactive, own)] == [1, 0, 1, 1]
    assert [kind.steady_from_start for kind in (mix, race, interactive, own)] == [0, 1, 0, 0]
    assert [kind.count_stock_outs for kind in (mix, race, interactive, own)] == [1, 1, 1, 0]
    assert [kind.global_events for kind in (mix, race, interactive, own)] == [0, 0, 0, 1]
    assert [kind.any_api_target for kind in (mix, race, interactive, own)] == [0, 0, 0, 1]
    assert (mix.timeout_reason, race.timeout_reason) == ("run time reached", "race timeout")


def test_descriptions():
    assert MixKind().describe(scenario("quick", run_time=30)) == (
        "10 users, spawn 10/s, run time 30s, think time 0.5-1.5 s"
    )
    assert RaceKind().describe(scenario("race")) == (
        "20 users, stock 5, all at once (hard timeout 1m)"
    )
    assert InteractiveKind().describe(scenario("interactive")) == (
        "Locust web UI, at most 1000 users for 30m"
    )
    assert OwnUsersKind(LOCUSTFILE).describe(scenario("custom", users=3, spawn_rate=3)) == (
        "3 users, spawn 3/s, run time 1m; Browser from /x/my_locustfile.py, "
        "with their own wait_time"
    )


def test_the_race_is_finished_when_every_user_has_an_outcome():
    race, users = RaceKind(), scenario("race", users=3)

    assert race.finished(users, SimpleNamespace(outcomes=Counter({"201": 2}))) == ""
    done = SimpleNamespace(outcomes=Counter({"201": 2, "409 insufficient_stock": 1}))
    assert race.finished(users, done) == "every race user ordered once"
    assert MixKind().finished(users, done) == ""


def _part(name: str, kind, **fields) -> Part:
    target = Target("http://127.0.0.1:8123", fields.pop("started", True), {}, None, 2)
    part = Part(scenario(name), kind, Path("/tmp/x"), target)
    for key, value in fields.items():
        setattr(part, key, value)
    return part


def test_the_mix_is_judged_by_its_thresholds_the_race_by_its_counts():
    total = {"p95_ms": 1.0, "p99_ms": 1.0, "error_rate_pct": 0.0, "requests": 1, "failures": 0}
    total["steady_requests"] = 1
    stress = _part("stress", MixKind(), total=total, resources={"rss_growth": None})
    race = _part("race", RaceKind(), total=total)
    race.race = {
        "users": 20, "stock": 5, "expected_created": 5, "expected_refused": 15, "created": 5,
        "refused": 15, "others": {}, "final_stock": 0, "expected_final_stock": 0,
    }  # fmt: skip

    assert [check.label.split(":")[0] for check in stress.kind.checks(stress)] == [
        "p99 of all requests",
        "error rate",
    ]
    assert {check.kind for check in race.kind.checks(race)} == {"race"}


def test_interactive_refuses_a_busy_web_port_and_announces_its_ui():
    harness = SimpleNamespace(out=Console(io.StringIO(), no_style()), options=Options("x"))
    part = _part("interactive", InteractiveKind())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        harness.options.web_port = busy.getsockname()[1]
        with pytest.raises(CannotRun, match="is busy; choose another with --web-port"):
            part.kind.plan_options(harness, part)

    harness.options.web_port = 0  # any free port will do here
    extra = part.kind.plan_options(harness, part)
    extra["on_web_ui"]("http://127.0.0.1:8089")

    assert extra["web_port"] == 0
    assert "Locust web UI: http://127.0.0.1:8089 (host http://127.0.0.1:8123" in (
        harness.out.stream.getvalue()
    )


def test_interactive_and_race_describe_their_own_options():
    options = Options("interactive", web_port=9999)
    described = {"users": 1, "run_time_s": 1800.0, "workers": 2}

    assert InteractiveKind().options_json(dict(described), _part("interactive", None), options) == {
        "users": 1, "workers": 2, "max_users": 1000, "cap_s": 1800.0, "web_port": 9999,
    }  # fmt: skip
    assert RaceKind().options_json(dict(described), _part("race", None), options) == {
        "users": 1, "workers": 0, "stock": 5, "hard_timeout_s": 1800.0,
    }  # fmt: skip


def test_your_own_users_on_any_api_get_no_fixtures_and_no_audit():
    out = Console(io.StringIO(), no_style())
    harness = SimpleNamespace(out=out, options=Options("custom", Overrides(think_time=(1, 2))))
    kind = OwnUsersKind(LOCUSTFILE)
    part = _part("custom", kind, started=False)

    kind.prepare(harness, part)
    kind.after_load(harness, part)

    assert part.payload == {} and part.audit_before is None
    assert part.audit == {"skipped": AUDIT_SKIPPED}
    assert "--think-time does not apply" in out.stream.getvalue()


def test_the_kinds_bring_no_locust_along():
    assert "locust" not in sys.modules
