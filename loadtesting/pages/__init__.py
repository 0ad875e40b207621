"""The harness's own pages: one report page per run and the run history (index.html).

Pure functions of the verdict JSON and the run's recorded samples; no locust, gevent or django
import, so the tests render them in the pytest process. Charts are uPlot (vendored, inlined).
"""

from loadtesting.pages.history import write_index
from loadtesting.pages.report import links_for, render_report, write_report_page

__all__ = ["links_for", "render_report", "write_index", "write_report_page"]
