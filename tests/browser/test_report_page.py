"""The report page and the run history in a real headless browser: no JavaScript errors, and
every chart the samples allow is drawn. Built from the recorded fixtures of tests/loadtesting."""

import json
import shutil
from pathlib import Path

import pytest

from loadtesting.pages import links_for, write_index, write_report_page
from tests.browser.conftest import js_errors, root_attributes

DATA = Path(__file__).resolve().parent.parent / "loadtesting" / "data"


def write_page(tmp_path: Path, name: str, **changes) -> Path:
    verdict = json.loads((DATA / f"{name}_verdict.json").read_text())
    samples = json.loads((DATA / f"{name}_samples.json").read_text())
    verdict.update(changes)
    page = tmp_path / f"{name}.html"
    return write_report_page(verdict, samples, page, links_for(verdict, page))


CAPACITY = {
    "max_users": 20,
    "max_rps": 41.5,
    "p95_ms_at_max": 120.0,
    "stopped_because": "the SLO broke",
    "steps": [
        {"users": 10, "rps": 20.1, "p95_ms": 80.0, "error_rate_pct": 0.0, "slo_met": True},
        {"users": 20, "rps": 41.5, "p95_ms": 120.0, "error_rate_pct": 0.0, "slo_met": True},
        {"users": 30, "rps": 43.0, "p95_ms": 700.0, "error_rate_pct": 2.0, "slo_met": False},
    ],
}


@pytest.mark.parametrize(
    ("name", "changes", "charts"),
    [
        # rps, latency, stock-outs, hot stock, server, generator (+ the race's timeline)
        ("race", {}, 7),
        ("quick", {}, 6),
        ("quick", {"capacity": CAPACITY}, 7),
    ],
)
def test_the_report_page_runs_without_javascript_errors(chromium, tmp_path, name, changes, charts):
    page = write_page(tmp_path, name, **changes)
    dom = chromium.dom(page.as_uri())
    attributes = root_attributes(dom)
    assert "data-js-errors" not in attributes, js_errors(dom)
    assert attributes.get("data-page-ready") == "true", js_errors(dom)
    assert attributes.get("data-charts-drawn") == str(charts)
    assert dom.count('class="uplot') == charts


def test_the_history_runs_without_javascript_errors(chromium, tmp_path):
    for name in ("race", "quick"):
        shutil.copy(DATA / f"{name}_verdict.json", tmp_path / f"{name}_20261201_100000.json")
    dom = chromium.dom(write_index(tmp_path).as_uri())
    attributes = root_attributes(dom)
    assert "data-js-errors" not in attributes, js_errors(dom)
    assert attributes.get("data-charts-drawn") == "2"  # one trend per scenario


def test_a_javascript_error_is_caught_by_the_page(chromium, tmp_path):
    """The check can fail: a page whose data breaks the charts reports the error in its DOM."""
    page = write_page(tmp_path, "quick")
    html = page.read_text().replace('"total_rps":', '"total_rps_renamed":', 1)
    page.write_text(html)
    dom = chromium.dom(page.as_uri())
    assert root_attributes(dom).get("data-js-errors") == "1"
    assert "error:" in js_errors(dom)
