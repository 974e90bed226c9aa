"""Documents built from a page's view: the incident feed, badges, the SLA JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from statuspages.badges import view_badge
from statuspages.feed import ATOM_NS, page_feed
from statuspages.render import sla_json
from statuspages.sla import report
from statuspages.view import PageView, build
from tests.unit.statuspages.factories import make_component, make_history, make_page
from thresholds.states import State

NOW = datetime(2026, 10, 10, 12, tzinfo=UTC)
URL = "https://status.example.com/s/acme"
TRUNK = make_component("Trunk")


def _view() -> PageView:
    history = make_history(
        "healthy", (NOW - timedelta(hours=5), "unhealthy"), (NOW - timedelta(hours=4), "healthy")
    )
    return build(
        make_page(bar_days=7), components=[TRUNK], histories={TRUNK.probe_id: history},
        current={TRUNK.probe_id: "healthy"}, windows=[], announcements=[], now=NOW,
    )  # fmt: skip


def test_component_is_found_by_public_id_only() -> None:
    view = _view()
    assert view.component("pub-trunk") is view.components[0]
    assert view.component(str(TRUNK.probe_id)) is None


def test_feed_entries_link_to_the_component_under_the_page_url() -> None:
    root = ET.fromstring(page_feed(_view(), URL, "atom"))
    [entry] = root.findall(f"{{{ATOM_NS}}}entry")
    link = entry.find(f"{{{ATOM_NS}}}link")
    assert link is not None and link.get("href") == f"{URL}/components/pub-trunk"
    title = entry.findtext(f"{{{ATOM_NS}}}title")
    assert title is not None and title.startswith("Resolved: ")
    rss = ET.fromstring(page_feed(_view(), URL, "rss"))
    assert rss.findtext("channel/title") == "Acme status incidents"


def test_badges_name_the_page_or_the_component() -> None:
    view = _view()
    assert "Acme status: All Systems Operational" in view_badge(view, "status", None)
    assert "Trunk: Operational" in view_badge(view, "status", view.components[0])
    assert "Acme status uptime: " in view_badge(view, "uptime", None)
    assert view.state is State.HEALTHY


def test_sla_json_has_one_object_per_component() -> None:
    view = _view()
    month = report(
        view.page, month="2026-10", components=[TRUNK],
        histories={TRUNK.probe_id: make_history("healthy")}, windows=[], now=NOW,
    )  # fmt: skip
    document = json.loads(sla_json(view, month))
    assert document["page"] == "Acme status" and document["month"] == "2026-10"
    assert [row["component"] for row in document["components"]] == ["Trunk"]
    assert document["components"][0]["uptime_pct"] == 100.0
