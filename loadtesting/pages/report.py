"""The harness's own report page: `<base>.html`, one self-contained file per run.

A pure function of the verdict JSON and the run's recorded samples (`<base>_samples.json`, see
samples.py): the tables are written here from the verdict, the charts are drawn in the browser by
uPlot from the samples embedded in the page (#page-data), so a test can compare every figure.
"""

from html import escape
from pathlib import Path

from loadtesting.pages import assets

EXIT_MEANINGS = {
    0: "everything passed",
    1: "a performance threshold, the recovery probe or a --compare regression failed",
    2: "oversell or a broken stock invariant",
    3: "the run could not be made",
    130: "interrupted before any load ran",
}


def _text(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _cell(value, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f"<td{klass}>{escape(_text(value))}</td>"


def _pass_cell(passed: bool) -> str:
    return f'<td class="{"ok" if passed else "bad"}">{"pass" if passed else "FAIL"}</td>'


def _table(table_id: str, headers: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    return (
        f'<table id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def banner(verdict: dict) -> str:
    code = verdict.get("exit_code")
    passed = bool(verdict.get("pass"))
    word = "PASS" if passed else "FAIL"
    meaning = EXIT_MEANINGS.get(code, "")
    if verdict.get("interrupted"):
        meaning += f"; interrupted ({verdict.get('stop_reason', '')})"
    failed = [check["label"] for check in verdict.get("checks", ()) if not check.get("pass")]
    detail = f"{len(failed)} check(s) failed" if failed else "every check passed"
    return (
        f'<div id="banner" class="banner {"pass" if passed else "fail"}" '
        f'data-pass="{str(passed).lower()}"'
        f' data-exit-code="{escape(str(code))}">{word} &middot; exit {escape(str(code))}'
        f"<small>{escape(meaning)} ({escape(detail)})</small></div>"
    )


def key_figures(total: dict) -> str:
    items = [
        ("requests", total.get("requests")),
        ("req/s", total.get("rps")),
        ("p50 ms", total.get("p50_ms")),
        ("p95 ms", total.get("p95_ms")),
        ("p99 ms", total.get("p99_ms")),
        ("errors %", total.get("error_rate_pct")),
        ("failures", total.get("failures")),
        ("stock-outs", total.get("stock_outs")),
    ]
    cells = "".join(
        f'<div class="figure" data-key="{escape(key)}"><b>{escape(_text(value))}</b>'
        f"<span>{escape(key)}</span></div>"
        for key, value in items
    )
    return f'<div class="figures" id="figures">{cells}</div>'


def checks_table(checks: list[dict], table_id: str) -> str:
    rows = [
        f'<tr data-pass="{str(bool(check.get("pass"))).lower()}" '
        f'data-kind="{escape(str(check.get("kind")))}">'
        f'<td class="label">{escape(check.get("label", ""))}</td>'
        f"{_cell(check.get('measured'), 'measured')}{_cell(check.get('limit'), 'limit')}"
        f"{_pass_cell(bool(check.get('pass')))}</tr>"
        for check in checks
    ]
    if not rows:
        return f'<p class="note" id="{table_id}">None judged in this scenario.</p>'
    return _table(table_id, ["check", "measured", "limit", "result"], rows)


ENDPOINT_COLUMNS = (
    ("requests", "requests"),
    ("failures", "failures"),
    ("stock_outs", "stock-outs"),
    ("error_rate_pct", "errors %"),
    ("avg_ms", "avg ms"),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
    ("p99_ms", "p99 ms"),
    ("max_ms", "max ms"),
    ("rps", "req/s"),
)


def endpoints_table(rows: list[dict], total: dict) -> str:
    body = []
    for row in [*rows, total]:
        klass = ' class="total"' if row is total else ""
        name = f"{row.get('method', '')} {row.get('name', '')}".strip()
        cells = "".join(_cell(row.get(key), key) for key, _ in ENDPOINT_COLUMNS)
        body.append(
            f'<tr{klass} data-endpoint="{escape(name)}"><td>{escape(name)}</td>{cells}</tr>'
        )
    return _table("endpoints", ["endpoint", *(label for _, label in ENDPOINT_COLUMNS)], body)


def race_section(race: dict | None) -> str:
    if not race:
        return ""
    others = ", ".join(f"{count} x {key}" for key, count in sorted(race["others"].items()))
    rows = [
        ("created (201)", race["created"], race["expected_created"]),
        ("refused (409 insufficient_stock)", race["refused"], race["expected_refused"]),
        ("anything else", sum(race["others"].values()), 0),
        ("final stock", race["final_stock"], race["expected_final_stock"]),
    ]
    body = [
        f'<tr data-outcome="{escape(label)}"><td>{escape(label)}</td>{_cell(value, "measured")}'
        f"{_cell(expected, 'expected')}{_pass_cell(value == expected)}</tr>"
        for label, value, expected in rows
    ]
    return (
        "<h2>Race outcome</h2>"
        f"<p>{race['users']} users at a barrier, one product (id {race['product_id']}) with stock "
        f"{race['stock']}, released at once; each orders 1 unit.</p>"
        + _table("race", ["outcome", "measured", "expected", "result"], body)
        + (f'<p class="note">Other answers: {escape(others)}</p>' if others else "")
        + '<div class="chart" id="chart-race"></div>'
    )


def _invariant_rows(state: dict, when: str) -> str:
    return (
        f'<tr data-when="{when}"><td>{when}</td>{_cell(state.get("products_checked"), "checked")}'
        f"{_cell(state.get('negative_stock'), 'negative')}"
        f"{_cell(state.get('mismatched_products'), 'mismatched')}"
        f"{_pass_cell(bool(state.get('ok')))}</tr>"
    )


def audit_section(audit: dict | None, recovery: dict | None) -> str:
    if not audit:
        return ""
    if "skipped" in audit:
        return f'<h2>Audit</h2><p class="note" id="audit">{escape(audit["skipped"])}</p>'
    rows = []
    if audit.get("before"):
        rows.append(_invariant_rows(audit["before"], "before the load"))
    rows.append(_invariant_rows(audit["after"], "after the load"))
    html = [
        "<h2>Audit</h2>",
        "<p>The stock invariant in the database (stock + units held = units received, stock never "
        "negative), for every product:</p>",
        _table(
            "audit",
            ["when", "products checked", "negative stock", "stock + held != received", "result"],
            rows,
        ),
    ]
    problems = audit["after"].get("problems") or []
    if problems:
        keys = sorted({key for problem in problems for key in problem})
        body = [
            "<tr>" + "".join(_cell(problem.get(key)) for key in keys) + "</tr>"
            for problem in problems
        ]
        html += ["<p>Offending products:</p>", _table("offenders", keys, body)]
    ledger = audit["ledger"]
    html.append(
        f'<p id="ledger" data-ok="{str(bool(ledger["ok"])).lower()}">Clients\' ledger: '
        f"{_text(ledger['units_seen_sold'])} units seen sold on "
        f"{_text(ledger['products'])} products, "
        f"{len(ledger['violations'])} beyond units held or received.</p>"
    )
    if ledger["violations"]:
        keys = sorted({key for row in ledger["violations"] for key in row})
        body = [
            "<tr>" + "".join(_cell(row.get(key)) for key in keys) + "</tr>"
            for row in ledger["violations"]
        ]
        html.append(_table("ledger-violations", keys, body))
    health = audit["health_after"]
    html.append(
        f'<p id="health" data-ok="{str(bool(health["ok"])).lower()}">/health after the load: '
        f"{escape(str(health['status']))} {escape(health['reason'])}</p>"
    )
    if recovery:
        if "skipped" in recovery:
            html.append(
                f'<p id="recovery">Recovery probe skipped: {escape(recovery["skipped"])}</p>'
            )
        else:
            html.append(
                f"<p>Recovery probe: /health {escape(str(recovery['health']['status']))}, then "
                f"{recovery['users']} users for {_text(recovery['run_time_s'])} s "
                "against the quick thresholds:</p>"
            )
            html.append(checks_table(recovery.get("checks", []), "recovery"))
    return "".join(html)


def capacity_section(capacity: dict | None) -> str:
    if not capacity:
        return ""
    body = []
    for step in capacity.get("steps", ()):
        knee = step.get("users") == capacity.get("max_users")
        body.append(
            f'<tr data-users="{step.get("users")}"{" class=total" if knee else ""}>'
            f"{_cell(step.get('users'), 'users')}{_cell(step.get('rps'), 'rps')}"
            f"{_cell(step.get('p95_ms'), 'p95')}{_cell(step.get('error_rate_pct'), 'errors')}"
            f"{_pass_cell(bool(step.get('slo_met')))}</tr>"
        )
    return (
        "<h2>Capacity</h2>"
        f'<p id="capacity-summary">Capacity: <b>{_text(capacity.get("max_users"))} users</b>, '
        f"{_text(capacity.get('max_rps'))} req/s at p95 {_text(capacity.get('p95_ms_at_max'))} ms "
        "(the last step within the SLO that still added req/s); stopped because "
        f"{escape(str(capacity.get('stopped_because')))}.</p>"
        + _table("capacity", ["users", "req/s", "p95 ms", "errors %", "SLO"], body)
        + '<div class="chart" id="chart-capacity"></div>'
    )


def compare_section(comparison: dict | None) -> str:
    if not comparison:
        return ""
    if "figures" not in comparison:
        note = escape(comparison.get("note", ""))
        return f'<h2>Compared with a baseline</h2><p class="note">{note}</p>'
    body = [
        f'<tr data-figure="{escape(key)}"><td>{escape(key)}</td>{_cell(row["now"], "now")}'
        f"{_cell(row['baseline'], 'baseline')}{_cell(row['change_pct'], 'change')}</tr>"
        for key, row in comparison["figures"].items()
    ]
    return (
        "<h2>Compared with a baseline</h2>"
        f"<p>Baseline {escape(str(comparison.get('baseline')))} "
        f"({escape(str(comparison.get('baseline_scenario')))}, "
        f"{escape(str(comparison.get('baseline_start')))}); p95 or req/s more than "
        f"{_text(comparison.get('limit_pct'))} % worse fails.</p>"
        + _table("compare", ["figure", "this run", "baseline", "change %"], body)
    )


def resources_section(server: dict | None, generator: dict | None) -> str:
    parts = ["<h2>Resources</h2>"]
    if server:
        growth = server.get("rss_growth")
        growth_text = (
            f"{growth['warm_mb']} MB after warm-up, {growth['end_mb']} MB at the end "
            f"({growth['growth_pct']:+.1f} %)"
            if growth
            else "too few steady-state samples to tell growth"
        )
        parts.append(
            f'<p id="server">Server: peak RSS {_text(server.get("peak_rss_mb"))} MB over '
            f"{_text(server.get('processes'))} processes, CPU {_text(server.get('cpu_seconds'))} s "
            f"(avg {_text(server.get('avg_cpu_pct'))} %, "
            f"peak {_text(server.get('peak_cpu_pct'))} %); "
            f"memory: {escape(growth_text)}.</p>"
        )
    else:
        parts.append('<p class="note" id="server">The server\'s resources were not measured.</p>')
    if generator:
        parts.append(
            f'<p id="generator">Load generator: CPU {_text(generator.get("cpu_seconds"))} s '
            f"(avg {_text(generator.get('avg_cpu_pct'))} % of one core).</p>"
        )
    return "".join(parts)


CHARTS = (
    ("chart-rps", "req/s per endpoint group"),
    ("chart-latency", "p50 / p95 per endpoint group"),
    ("chart-stockouts", "stock-outs and failures per second"),
    ("chart-stock", "the hot products' stock"),
    ("chart-server", "server memory and CPU"),
    ("chart-generator", "load generator CPU"),
)


def charts_section(samples: dict | None) -> str:
    if not samples:
        return (
            '<h2>Over the run</h2><p class="note" id="no-samples">'
            "No samples were recorded for this run.</p>"
        )
    parts = ["<h2>Over the run</h2>"]
    stock = samples.get("hot_stock")
    if stock and stock.get("source"):
        parts.append(f'<p class="note">Hot stock: {escape(stock["source"])}.</p>')
    parts += [
        f'<div class="chart" id="{chart_id}" data-title="{escape(title)}"></div>'
        for chart_id, title in CHARTS
    ]
    return "".join(parts)


def links_section(links: dict) -> str:
    items = "".join(
        f'<li><a href="{escape(str(href))}">{escape(label)}</a></li>'
        for label, href in links.items()
        if href
    )
    return f'<h2>Files of this run</h2><ul id="links">{items}</ul>'


def render_report(verdict: dict, samples: dict | None, links: dict) -> str:
    scenario = verdict.get("scenario", "?")
    target, database = verdict.get("target") or {}, verdict.get("database") or {}
    total = verdict.get("total") or {}
    thresholds = [check for check in verdict.get("checks", ()) if check.get("kind") == "threshold"]
    word = "PASS" if verdict.get("pass") else "FAIL"
    title = f"Load test {scenario} · {verdict.get('start')} · {word}"
    body = [
        f'<h1 id="title">Load test: {escape(scenario)}</h1>',
        f'<p class="meta">{escape(str(verdict.get("start")))} to {escape(str(verdict.get("end")))} '
        f"({_text(verdict.get('duration_s'))} s; steady state "
        f"{_text((verdict.get('steady_state') or {}).get('seconds'))} s) · target "
        f"{escape(str(target.get('url')))} ({escape(str(target.get('server')))}) · database "
        f"{escape(str(database.get('engine')))} {escape(str(database.get('name', '')))} · stopped: "
        f"{escape(str(verdict.get('stop_reason')))}</p>",
        banner(verdict),
        key_figures(total),
        "<h2>Thresholds</h2>",
        checks_table(thresholds, "thresholds"),
        race_section(verdict.get("race")),
        capacity_section(verdict.get("capacity")),
        charts_section(samples),
        "<h2>Every check</h2>",
        checks_table(verdict.get("checks", []), "checks"),
        "<h2>Endpoints</h2>",
        endpoints_table(verdict.get("endpoints", []), total),
        audit_section(verdict.get("audit"), verdict.get("recovery")),
        compare_section(verdict.get("compare")),
        resources_section(verdict.get("server"), verdict.get("load_generator")),
        links_section(links),
        assets.json_script(
            "page-data",
            {"scenario": scenario, "samples": samples, "capacity": verdict.get("capacity")},
        ),
    ]
    return assets.page(title, "\n".join(part for part in body if part), "report.js")


def write_report_page(verdict: dict, samples: dict | None, path: Path, links: dict) -> Path:
    """Write `<base>.html`; `links` maps a label to a path relative to the page (or a URL of the
    same machine's files), e.g. {"Locust's report": "race_…_locust.html"}."""
    path = Path(path)
    path.write_text(render_report(verdict, samples, links), encoding="utf-8")
    return path


def links_for(verdict: dict, page: Path) -> dict:
    """The run's other files, relative to the page, from the verdict's `reports`."""
    labels = {
        "locust_html": "Locust's report",
        "csv": "per-endpoint statistics (CSV)",
        "history_csv": "statistics history (CSV)",
        "failures_csv": "failures (CSV)",
        "exceptions_csv": "exceptions (CSV)",
        "log": "the run's log",
        "json": "the verdict (JSON)",
        "samples": "the recorded samples (JSON)",
    }
    files = verdict.get("reports") or {}
    links = {}
    for key, label in labels.items():
        if files.get(key):
            target = Path(files[key])
            links[label] = target.name if target.parent == Path(page).parent else str(target)
    links["all runs (index.html)"] = "index.html"
    return links
