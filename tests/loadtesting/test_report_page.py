"""The report page, checked against the verdict JSON and the samples it was built from. No
locust import: loadtesting.pages is pure."""

from pathlib import Path

import pytest

from loadtesting.pages import links_for, render_report, write_report_page
from loadtesting.pages import samples as page_samples
from tests.loadtesting.page_tree import Tree, assert_offline, cells, fixture, number, page_data


@pytest.fixture
def race_page():
    verdict, samples = fixture("race")
    html = render_report(verdict, samples, links_for(verdict, Path("race.html")))
    return verdict, samples, html, Tree(html).root


@pytest.fixture
def quick_page():
    verdict, samples = fixture("quick")
    html = render_report(verdict, samples, links_for(verdict, Path("quick.html")))
    return verdict, samples, html, Tree(html).root


# --- the report page --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["race", "quick"])
def test_banner_shows_the_verdict_and_its_exit_status(name):
    verdict, samples = fixture(name)
    root = Tree(render_report(verdict, samples, {})).root
    banner = root.by_id("banner")
    assert banner.attrs["data-pass"] == str(verdict["pass"]).lower()
    assert banner.attrs["data-exit-code"] == str(verdict["exit_code"])
    assert banner.text.startswith(("PASS" if verdict["pass"] else "FAIL") + " · exit ")


def test_a_failed_verdict_has_a_fail_banner_naming_the_failed_checks():
    verdict, samples = fixture("quick")
    verdict["checks"][0]["pass"] = False
    verdict.update({"pass": False, "exit_code": 1})
    banner = Tree(render_report(verdict, samples, {})).root.by_id("banner")
    assert banner.attrs["class"] == "banner fail"
    assert banner.text.startswith("FAIL · exit 1")
    assert "1 check(s) failed" in banner.text
    assert "performance threshold" in banner.text


def test_thresholds_are_the_verdicts_with_measured_value_limit_and_result(quick_page):
    verdict, _, _, root = quick_page
    expected = [check for check in verdict["checks"] if check["kind"] == "threshold"]
    assert expected, "the quick fixture judges thresholds"
    rows = root.by_id("thresholds").find_all("tr", data_kind="threshold")
    assert len(rows) == len(expected)
    for row, check in zip(rows, expected, strict=True):
        values = cells(row)
        assert values["label"] == check["label"]
        assert number(values["measured"]) == pytest.approx(check["measured"])
        assert number(values["limit"]) == pytest.approx(check["limit"])
        assert row.attrs["data-pass"] == str(check["pass"]).lower()
    every = root.by_id("checks").find_all("tr", data_pass="true") + root.by_id("checks").find_all(
        "tr", data_pass="false"
    )
    assert len(every) == len(verdict["checks"])


def test_endpoint_rows_and_total_are_the_verdicts(quick_page):
    verdict, _, _, root = quick_page
    for row in [*verdict["endpoints"], verdict["total"]]:
        name = f"{row['method']} {row['name']}".strip()
        values = cells(root.by_id("endpoints").find_all("tr", data_endpoint=name)[0])
        for key in ("requests", "failures", "stock_outs", "p50_ms", "p95_ms", "p99_ms", "rps"):
            assert number(values[key]) == pytest.approx(row[key], abs=0.01), (name, key)


def test_race_counts_are_the_verdicts(race_page):
    verdict, _, _, root = race_page
    race = verdict["race"]
    table = root.by_id("race")
    expected = {
        "created (201)": (race["created"], race["expected_created"]),
        "refused (409 insufficient_stock)": (race["refused"], race["expected_refused"]),
        "anything else": (sum(race["others"].values()), 0),
        "final stock": (race["final_stock"], race["expected_final_stock"]),
    }
    for outcome, (measured, wanted) in expected.items():
        values = cells(table.find_all("tr", data_outcome=outcome)[0])
        assert (number(values["measured"]), number(values["expected"])) == (measured, wanted)
    assert (race["created"], race["refused"], race["final_stock"]) == (5, 15, 0)


def test_race_timeline_counts_end_at_the_race_counts(race_page):
    verdict, samples, _, root = race_page
    timeline = page_data(root)["samples"]["race"]
    assert timeline["created"][-1] == verdict["race"]["created"]
    assert timeline["refused"][-1] == verdict["race"]["refused"]
    assert timeline["other"][-1] == sum(verdict["race"]["others"].values())
    assert timeline["t_ms"] == sorted(timeline["t_ms"])


def test_the_stock_series_ends_at_the_audited_stock_and_never_goes_below_zero(race_page):
    verdict, samples, _, root = race_page
    products = page_data(root)["samples"]["hot_stock"]["products"]
    (product,) = products.values()
    assert product["id"] == verdict["race"]["product_id"]
    stock = [point[1] for point in product["points"]]
    assert stock[0] == verdict["race"]["stock"]
    assert stock[-1] == verdict["race"]["final_stock"]
    assert min(stock) >= 0


def test_the_quick_runs_hot_stock_covers_the_load_and_stays_at_or_above_zero(quick_page):
    verdict, samples, _, root = quick_page
    products = page_data(root)["samples"]["hot_stock"]["products"]
    assert len(products) == 5
    for product in products.values():
        times = [point[0] for point in product["points"]]
        assert times == sorted(times)
        assert times[-1] == pytest.approx(verdict["duration_s"], abs=0.05)
        assert min(point[1] for point in product["points"]) >= 0


def test_the_page_embeds_the_recorded_samples_unchanged(quick_page):
    _, samples, _, root = quick_page
    assert page_data(root)["samples"] == samples
    series = samples["requests"]
    per_group = sum(sum(values) for values in series["rps"].values()) * series["bucket_s"]
    assert round(per_group) == round(sum(series["total_rps"]) * series["bucket_s"])


def test_the_request_series_hold_every_request_of_the_verdict(quick_page):
    verdict, samples, _, _ = quick_page
    series = samples["requests"]
    assert round(sum(series["total_rps"]) * series["bucket_s"]) == verdict["total"]["requests"]
    stock_outs = round(sum(series["stock_outs_per_s"]) * series["bucket_s"])
    assert stock_outs == verdict["total"]["stock_outs"]
    assert round(sum(series["failures_per_s"]) * series["bucket_s"]) == verdict["total"]["failures"]


def test_audit_figures_are_the_verdicts(quick_page):
    verdict, _, _, root = quick_page
    after = cells(root.by_id("audit").find_all("tr", data_when="after the load")[0])
    audit = verdict["audit"]["after"]
    assert number(after["checked"]) == audit["products_checked"]
    assert number(after["negative"]) == audit["negative_stock"]
    assert number(after["mismatched"]) == audit["mismatched_products"]
    assert root.by_id("ledger").attrs["data-ok"] == str(verdict["audit"]["ledger"]["ok"]).lower()
    assert str(verdict["audit"]["ledger"]["units_seen_sold"]) in root.by_id("ledger").text
    assert root.by_id("health").attrs["data-ok"] == "true"


def test_offending_products_are_listed_with_their_figures():
    verdict, samples = fixture("quick")
    problem = {"product_id": 3, "sku": "LT-P-0003", "stock": -1, "held": 2, "received": 1}
    verdict["audit"]["after"].update(
        {"ok": False, "negative_stock": 1, "mismatched_products": 1, "problems": [problem]}
    )
    root = Tree(render_report(verdict, samples, {})).root
    row = root.by_id("offenders").find_all("tr")[1]
    assert [cell.text for cell in row.find_all("td")] == ["2", "3", "1", "LT-P-0003", "-1"]


def test_compare_shows_each_figure_beside_the_baseline():
    verdict, samples = fixture("quick")
    verdict["compare"] = {
        "baseline": "old.json",
        "baseline_scenario": "quick",
        "baseline_start": "2026-11-30T10:00:00Z",
        "limit_pct": 20.0,
        "figures": {"p95_ms": {"now": 63.51, "baseline": 50.0, "change_pct": 27.0}},
    }
    row = Tree(render_report(verdict, samples, {})).root.by_id("compare").find_all("tr")[1]
    assert cells(row) == {"": "p95_ms", "now": "63.51", "baseline": "50", "change": "27"}


def test_capacity_table_and_knee_come_from_the_verdict():
    verdict, samples = fixture("quick")
    verdict["capacity"] = {
        "max_users": 20,
        "max_rps": 41.5,
        "p95_ms_at_max": 120.0,
        "stopped_because": "the SLO broke at 30 users (p95 700 ms >= 500 ms)",
        "steps": [
            {"users": 10, "rps": 20.1, "p95_ms": 80.0, "error_rate_pct": 0.0, "slo_met": True},
            {"users": 20, "rps": 41.5, "p95_ms": 120.0, "error_rate_pct": 0.0, "slo_met": True},
            {"users": 30, "rps": 43.0, "p95_ms": 700.0, "error_rate_pct": 0.0, "slo_met": False},
        ],
    }
    root = Tree(render_report(verdict, samples, {})).root
    rows = root.by_id("capacity").find_all("tr")[1:]
    assert [number(cells(row)["users"]) for row in rows] == [10, 20, 30]
    assert [row.attrs.get("class") for row in rows] == [None, "total", None]
    assert "20 users" in root.by_id("capacity-summary").text
    assert page_data(root)["capacity"] == verdict["capacity"]


def test_no_samples_is_said_not_drawn():
    verdict, _ = fixture("quick")
    root = Tree(render_report(verdict, None, {})).root
    assert "No samples" in root.by_id("no-samples").text
    assert page_data(root)["samples"] is None


def test_links_name_the_runs_files_relative_to_the_page(tmp_path):
    verdict, samples = fixture("race")
    verdict["reports"]["locust_html"] = str(tmp_path / "race_x_locust.html")
    verdict["reports"]["json"] = str(tmp_path / "race_x.json")
    page = write_report_page(
        verdict, samples, tmp_path / "race_x.html", links_for(verdict, tmp_path / "race_x.html")
    )
    links = {
        a.text: a.attrs["href"] for a in Tree(page.read_text()).root.by_id("links").find_all("a")
    }
    assert links["Locust's report"] == "race_x_locust.html"
    assert links["the verdict (JSON)"] == "race_x.json"
    assert links["all runs (index.html)"] == "index.html"


# --- nothing over the network -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["race", "quick"])
def test_the_report_page_references_nothing_over_the_network(name):
    verdict, samples = fixture(name)
    assert_offline(render_report(verdict, samples, links_for(verdict, Path(f"{name}.html"))))


def test_the_offline_check_catches_a_cdn_script():
    verdict, samples = fixture("race")
    html = render_report(verdict, samples, {})
    cdn = html.replace("<body>", '<body><script src="https://cdn.example/x.js"></script>', 1)
    with pytest.raises(AssertionError):
        assert_offline(cdn)


# --- the samples' arithmetic ------------------------------------------------------------------


def test_request_series_bucket_counts_percentiles_and_outcomes():
    start = 1000.0
    requests = [
        (start + 0.1, "GET /products/", 10.0, 0),
        (start + 0.2, "GET /products/{id}", 30.0, 0),
        (start + 0.9, "POST /orders/", 50.0, 2),
        (start + 1.5, "POST /orders/", 70.0, 1),
        (start + 1.6, "GET /health", 5.0, 0),
    ]
    series = page_samples.request_series(requests, start=start, end=start + 60)
    assert series["bucket_s"] == 1.0
    assert series["groups"] == ["browse", "order", "health, summary"]
    assert series["rps"]["browse"][:2] == [2.0, 0.0]
    assert series["p95_ms"]["browse"][:2] == [30.0, None]
    assert series["p50_ms"]["order"][:2] == [50.0, 70.0]
    assert series["stock_outs_per_s"][:2] == [1.0, 0.0]
    assert series["failures_per_s"][:2] == [0.0, 1.0]
    assert series["total_rps"][:2] == [3.0, 2.0]


def test_own_endpoints_get_their_own_groups():
    requests = [(0.0, f"GET /e{index}", 1.0, 0) for index in range(10)]
    groups = page_samples.request_series(requests, start=0.0, end=1.0)["groups"]
    assert len(groups) == page_samples.MAX_OWN_GROUPS
    assert "other" in groups


def test_bucket_size_follows_the_run_length():
    assert page_samples.bucket_seconds(0.3) == 0.01
    assert page_samples.bucket_seconds(12) == 0.4
    assert page_samples.bucket_seconds(300) == 1.0
    assert page_samples.bucket_seconds(3600) == 7.0
