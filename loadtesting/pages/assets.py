"""What every page inlines: uPlot (vendored, see vendor/README.md), the stylesheet, the error
hook and the chart helpers. Nothing is fetched: a page is one file that opens offline."""

import json
from functools import cache
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor"
STATIC = HERE / "static"
UPLOT_VERSION = "1.6.32"


@cache
def vendored(name: str) -> str:
    """uPlot.iife.min.js or uPlot.min.css, as the npm package ships them."""
    return (VENDOR / name).read_text(encoding="utf-8")


@cache
def static(name: str) -> str:
    """The pages' own script and style: error_hook.js (first, so that any JavaScript error is
    written into the page: #js-errors and <html data-js-errors>), charts.js (drawChart over
    uPlot), report.js, history.js, page.css."""
    return (STATIC / name).read_text(encoding="utf-8")


def json_script(element_id: str, data) -> str:
    """Data for the page's script, safe inside <script> (no "</" can close it early)."""
    text = json.dumps(data, separators=(",", ":"), default=str, allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{escape(element_id)}">{text}</script>'


def page(title: str, body: str, script: str) -> str:
    """The whole self-contained HTML document; `script` names the page's own static script."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f"<script>{static('error_hook.js')}</script>\n"
        f"<style>{vendored('uPlot.min.css')}\n{static('page.css')}</style>\n"
        "</head>\n<body>\n"
        '<pre id="js-errors" hidden></pre>\n'
        f"{body}\n"
        f"<script>{vendored('uPlot.iife.min.js')}</script>\n"
        f"<script>{static('charts.js')}\n{static(script)}</script>\n"
        "</body>\n</html>\n"
    )
