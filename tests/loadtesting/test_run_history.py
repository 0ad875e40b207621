"""The run history (index.html of a results directory), checked against the verdicts it lists."""

import json
import shutil
from pathlib import Path

from loadtesting.pages import write_index
from tests.loadtesting.page_tree import DATA, Tree, assert_offline, cells, fixture, page_data


def results_dir(tmp_path: Path) -> Path:
    """Three runs (two quick, one race), a page for two of them, a samples file, and junk."""
    directory = tmp_path / "results"
    directory.mkdir()
    for name, start, rps, p95, passed in (
        ("quick_20261201_100000", "2026-12-01T10:00:00.000Z", 100.0, 40.0, True),
        ("race_20261201_110000", "2026-12-01T11:00:00.000Z", None, None, True),
        ("quick_20261201_120000", "2026-12-01T12:00:00.000Z", 80.0, 90.0, False),
    ):
        verdict, _ = fixture(name.split("_")[0])
        verdict["start"], verdict["pass"] = start, passed
        verdict["exit_code"] = 0 if passed else 1
        if rps is not None:
            verdict["total"].update({"rps": rps, "p95_ms": p95})
        (directory / f"{name}.json").write_text(json.dumps(verdict))
    (directory / "quick_20261201_100000.html").write_text("page")
    (directory / "race_20261201_110000.html").write_text("page")
    shutil.copy(DATA / "quick_samples.json", directory / "quick_20261201_100000_samples.json")
    (directory / "notes.json").write_text('{"not": "a verdict"}')
    (directory / "broken.json").write_text("{")
    return directory


def test_the_history_lists_every_run_newest_first_with_its_figures(tmp_path):
    directory = results_dir(tmp_path)
    root = Tree(write_index(directory).read_text()).root
    rows = root.by_id("runs").find_all("tr")[1:]
    assert [row.attrs["data-json"] for row in rows] == [
        "quick_20261201_120000.json",
        "race_20261201_110000.json",
        "quick_20261201_100000.json",
    ]
    newest = cells(rows[0])
    assert (newest["rps"], newest["p95"], newest["audit"]) == ("80.0", "90.0", "holds")
    assert rows[0].attrs["data-pass"] == "false" and "FAIL (exit 1)" in rows[0].text
    race_row = cells(rows[1])
    assert race_row["stockouts"] == "15"


def test_the_history_links_each_run_to_its_page_or_else_its_json(tmp_path):
    directory = results_dir(tmp_path)
    root = Tree(write_index(directory).read_text()).root
    links = [row.find_all("a")[0].attrs["href"] for row in root.by_id("runs").find_all("tr")[1:]]
    assert links == [
        "quick_20261201_120000.json",
        "race_20261201_110000.html",
        "quick_20261201_100000.html",
    ]
    for link in links:
        assert (directory / link).exists()


def test_the_history_trend_is_per_scenario_oldest_first(tmp_path):
    directory = results_dir(tmp_path)
    root = Tree(write_index(directory).read_text()).root
    trends = page_data(root)["trends"]
    assert [run["rps"] for run in trends["quick"]] == [100.0, 80.0]
    assert [run["p95_ms"] for run in trends["quick"]] == [40.0, 90.0]
    assert [chart.attrs["data-scenario"] for chart in root.find_all("div", **{"class": "chart"})]
    assert_offline(write_index(directory).read_text())
