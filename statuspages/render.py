"""HTML, CSV and JSON renderings of a page's view model (Jinja2, autoescaped)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from importlib import resources

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from statuspages.bars import Bar, DayView
from statuspages.charts import Chart
from statuspages.csv_cells import csv_cell
from statuspages.incidents import human_duration
from statuspages.sla import SlaReport
from statuspages.view import ComponentView, PageView

MODES = ("page", "embed", "wall")

_ENV = Environment(
    loader=PackageLoader("statuspages", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.globals["duration"] = human_duration


def _segments(bar: Bar) -> Markup:
    """A bar's day segments. Joined here rather than looped in the template (a page of
    50 components has 4,500 of them, and the Jinja loop took most of a render), and
    the past days' markup is kept with them (:class:`statuspages.bars.PastBar`)."""
    if bar.past.html is None:
        bar.past.html = _joined(bar.past.days)
    return Markup(bar.past.html + _joined(bar.today))  # noqa: S704 - labels are escaped


def _joined(days: Sequence[DayView]) -> str:
    return "".join(f'<i class="d-{d.state.value}" title="{escape(d.label)}"></i>' for d in days)


_ENV.filters["segments"] = _segments


def _asset_version() -> str:
    digest = hashlib.sha256()
    for name in ("page.css", "charts.js"):
        digest.update(resources.files("statuspages").joinpath("static", name).read_bytes())
    return digest.hexdigest()[:10]


_ENV.globals["asset_version"] = _asset_version()


def page_html(view: PageView, *, mode: str, base: str) -> str:
    """The page, its embed view or its NOC wall view (which refreshes itself)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    refresh = view.page.refresh_s if mode == "wall" else None
    return _ENV.get_template("page.html.j2").render(
        view=view, mode=mode, base=base, refresh_s=refresh
    )


def component_html(
    view: PageView, component: ComponentView, *, charts: list[Chart], days: int, base: str
) -> str:
    """A component's detail view with its charts."""
    figures = [
        Chart(title=c.title, summary=c.summary, figure_json=Markup(c.figure_json))  # noqa: S704
        for c in charts
    ]
    return _ENV.get_template("component.html.j2").render(
        view=view, component=component, charts=figures, chart_days=days, base=base, mode="page"
    )


def sla_html(view: PageView, report: SlaReport, *, base: str) -> str:
    """The printable SLA report."""
    return _ENV.get_template("sla.html.j2").render(view=view, report=report, base=base, mode="page")


def sla_csv(report: SlaReport) -> str:
    """The SLA report as CSV, one row per component."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["month", "component", "uptime_pct", "downtime_min", "no_data_min", "maintenance_min",
         "incidents"]
    )  # fmt: skip
    for row in report.rows:
        uptime = "" if row.uptime is None else f"{row.uptime * 100:.3f}"
        writer.writerow(
            [report.month, csv_cell(row.component), uptime, row.downtime_min, row.no_data_min,
             row.maintenance_min, row.incidents]
        )  # fmt: skip
    return out.getvalue()


def sla_json(view: PageView, report: SlaReport) -> str:
    """The SLA report as a JSON document, one object per component."""
    rows = [
        {
            "component": row.component,
            "uptime_pct": None if row.uptime is None else round(row.uptime * 100, 3),
            "downtime_min": row.downtime_min,
            "no_data_min": row.no_data_min,
            "maintenance_min": row.maintenance_min,
            "incidents": row.incidents,
        }
        for row in report.rows
    ]
    return json.dumps(
        {
            "page": view.page.name,
            "month": report.month,
            "start": report.start.isoformat(),
            "end": report.end.isoformat(),
            "degraded_counts_as_up": view.page.degraded_is_up,
            "components": rows,
        }
    )
