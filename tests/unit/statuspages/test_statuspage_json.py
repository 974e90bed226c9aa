"""Statuspage v2 compatible documents from a page view."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from statuspages.statuspage_json import COMPONENT_STATUS, document
from statuspages.view import PageView, build
from store.page_data import PlannedWindow
from store.state_history import StateChange, StateHistory
from store.status_pages import Page
from tests.unit.statuspages.factories import make_component
from thresholds.states import State

H = timedelta(hours=1)
NOW = datetime(2026, 10, 10, 12, tzinfo=UTC)
START = datetime(2026, 10, 4, tzinfo=UTC)
URL = "https://status.example.com/acme"

PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
STATUS_KEYS = {"indicator", "description"}
COMPONENT_KEYS = {
    *("id", "name", "status", "created_at", "updated_at", "position", "description"),
    *("showcase", "start_date", "group_id", "page_id", "group", "only_show_if_degraded"),
}
INCIDENT_KEYS = {
    *("id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at"),
    *("impact", "shortlink", "started_at", "page_id", "incident_updates", "components"),
}
UPDATE_KEYS = {
    *("id", "status", "body", "incident_id", "created_at", "updated_at", "display_at"),
    "affected_components",
}
MAINTENANCE_KEYS = {
    *("id", "name", "status", "created_at", "updated_at", "impact", "shortlink", "page_id"),
    *("incident_updates", "components", "scheduled_for", "scheduled_until"),
}
NAMES = [
    "summary",
    "status",
    "components",
    "incidents",
    "incidents/unresolved",
    "scheduled-maintenances",
]
TOP_KEYS = {
    "summary": {"page", "status", "components", "incidents", "scheduled_maintenances"},
    "status": {"page", "status"},
    "components": {"page", "components"},
    "incidents": {"page", "incidents"},
    "incidents/unresolved": {"page", "incidents"},
    "scheduled-maintenances": {"page", "scheduled_maintenances"},
}


def _page() -> Page:
    return Page(
        id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        slug="acme",
        name="Acme status",
        description="",
        time_zone="UTC",
        bar_days=7,
        degraded_is_up=False,
        primary_color="#1565c0",
        frame_ancestors=[],
        refresh_s=60,
        custom_domain=None,
        domain_token="token",
        domain_verified_at=None,
        images=[],
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


TRUNK = make_component("Trunk", group="Voice", description="Primary SIP trunk")
BACKUP = make_component("Backup", group="Voice")
API = make_component("API")
PAGE = _page()
MOS = [{"state": "unhealthy", "metric": "mos", "value": 2.9}]
JITTER = [{"state": "degraded", "metric": "jitter_ms", "value": 60}]


def _view(
    current: dict[uuid.UUID, str] | None = None,
    windows: Sequence[PlannedWindow] = (),
    now: datetime = NOW,
) -> PageView:
    histories = {
        TRUNK.probe_id: StateHistory(
            before="healthy",
            changes=[
                StateChange(START + H, "unhealthy", MOS),
                StateChange(START + 3 * H, "healthy", []),
                StateChange(START + 5 * 24 * H, "degraded", JITTER),
            ],
        ),
        BACKUP.probe_id: StateHistory(before="healthy", changes=[]),
        API.probe_id: StateHistory(before="unknown", changes=[]),
    }
    states = {TRUNK.probe_id: "degraded", BACKUP.probe_id: "healthy", API.probe_id: "unknown"}
    return build(
        PAGE,
        components=[TRUNK, BACKUP, API],
        histories=histories,
        current=states if current is None else current,
        windows=windows,
        announcements=[],
        now=now,
    )


def _window(start: datetime, end: datetime, probe: uuid.UUID | None, title: str) -> PlannedWindow:
    return PlannedWindow(id=uuid.uuid4(), probe_id=probe, title=title, starts_at=start, ends_at=end)


def _by_name(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in docs}


@pytest.mark.parametrize("name", NAMES)
def test_each_document_has_the_statuspage_keys(name: str) -> None:
    windows = [_window(NOW + H, NOW + 2 * H, TRUNK.probe_id, "Trunk upgrade")]
    doc = document(_view(windows=windows), name, URL)
    assert set(doc) == TOP_KEYS[name]
    assert set(doc["page"]) == PAGE_KEYS
    assert doc["page"] == {
        "id": "acme",
        "name": "Acme status",
        "url": URL,
        "time_zone": "UTC",
        "updated_at": NOW.isoformat(),
    }
    if "status" in doc:
        assert set(doc["status"]) == STATUS_KEYS
    for component in doc.get("components", []):
        assert set(component) >= COMPONENT_KEYS
    for incident in doc.get("incidents", []):
        assert set(incident) == INCIDENT_KEYS
        assert incident["incident_updates"]
        for update in incident["incident_updates"]:
            assert set(update) == UPDATE_KEYS
    for maintenance in doc.get("scheduled_maintenances", []):
        assert set(maintenance) >= MAINTENANCE_KEYS
    json.dumps(doc)  # serializable as it is


@pytest.mark.parametrize("name", ["incident", "summary.json", "", "SUMMARY", "components/"])
def test_unknown_document_name_is_a_key_error(name: str) -> None:
    with pytest.raises(KeyError):
        document(_view(), name, URL)


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("healthy", "operational"),
        ("degraded", "degraded_performance"),
        ("unhealthy", "major_outage"),
        ("unknown", "degraded_performance"),
    ],
)
def test_component_status_mapping(state: str, status: str) -> None:
    view = _view(current={c.probe_id: state for c in (TRUNK, BACKUP, API)})
    docs = _by_name(document(view, "components", URL)["components"])
    assert docs["Trunk"]["status"] == docs["API"]["status"] == status
    assert docs["Voice"]["status"] == status


def test_no_data_is_never_operational() -> None:
    assert COMPONENT_STATUS[State.UNKNOWN] != "operational"
    view = _view(current={})
    statuses = {c["status"] for c in document(view, "components", URL)["components"]}
    assert statuses == {"degraded_performance"}
    assert document(view, "status", URL)["status"] == {
        "indicator": "minor",
        "description": "Status Pending",
    }


@pytest.mark.parametrize(
    ("states", "indicator", "description"),
    [
        (("healthy", "healthy", "healthy"), "none", "All Systems Operational"),
        (("healthy", "healthy", "unknown"), "none", "All Systems Operational"),
        (("degraded", "healthy", "unknown"), "minor", "Partial Degradation"),
        (("healthy", "unhealthy", "degraded"), "major", "Major Issues Detected"),
    ],
)
def test_status_indicator(states: tuple[str, str, str], indicator: str, description: str) -> None:
    current = {c.probe_id: s for c, s in zip((TRUNK, BACKUP, API), states, strict=True)}
    assert document(_view(current=current), "status", URL)["status"] == {
        "indicator": indicator,
        "description": description,
    }


def test_components_under_maintenance() -> None:
    windows = [_window(NOW - H, NOW + H, BACKUP.probe_id, "Backup upgrade")]
    docs = _by_name(document(_view(windows=windows), "components", URL)["components"])
    assert docs["Backup"]["status"] == "under_maintenance"
    assert docs["Trunk"]["status"] == "degraded_performance"


def test_group_component_lists_its_members() -> None:
    docs = document(_view(), "components", URL)["components"]
    by_name = _by_name(docs)
    group = by_name["Voice"]
    assert group["group"] is True and group["group_id"] is None
    assert group["components"] == ["pub-trunk", "pub-backup"]
    assert by_name["Trunk"]["group_id"] == by_name["Backup"]["group_id"] == group["id"]
    assert by_name["API"]["group_id"] is None and by_name["API"]["group"] is False
    assert "components" not in by_name["API"]
    assert [d["position"] for d in docs] == list(range(1, len(docs) + 1))
    assert [d["name"] for d in docs] == ["Trunk", "Backup", "Voice", "API"]
    assert by_name["Trunk"]["description"] == "Primary SIP trunk"
    assert by_name["Backup"]["description"] is None
    assert all(d["page_id"] == "acme" for d in docs)


def test_group_ids_are_stable_and_distinct() -> None:
    first = _by_name(document(_view(), "components", URL)["components"])
    again = _by_name(document(_view(now=NOW + H), "components", URL)["components"])
    assert first["Voice"]["id"] == again["Voice"]["id"]
    assert len({d["id"] for d in first.values()}) == len(first)


def test_incident_ids_are_stable_across_calls_and_renders() -> None:
    ids = [i["id"] for i in document(_view(), "incidents", URL)["incidents"]]
    assert len(ids) == len(set(ids)) == 2
    assert ids == [i["id"] for i in document(_view(), "incidents", URL)["incidents"]]
    later = _view(now=NOW + 2 * H)  # same day, next render
    assert ids == [i["id"] for i in document(later, "incidents", URL)["incidents"]]
    unresolved = document(_view(), "incidents/unresolved", URL)["incidents"]
    assert [i["id"] for i in unresolved] == ids[:1]


def test_resolved_incident_has_two_updates_newest_first() -> None:
    incidents = document(_view(), "incidents", URL)["incidents"]
    resolved = next(i for i in incidents if i["status"] == "resolved")
    assert resolved["name"] == "MOS fell to 2.9 on Trunk"
    assert resolved["impact"] == "major"
    assert resolved["started_at"] == resolved["created_at"] == (START + H).isoformat()
    assert resolved["resolved_at"] == resolved["updated_at"] == (START + 3 * H).isoformat()
    assert resolved["shortlink"] == URL and resolved["page_id"] == "acme"
    first, second = resolved["incident_updates"]
    assert (first["status"], first["body"]) == ("resolved", "Trunk is operational again.")
    assert (second["status"], second["body"]) == ("investigating", "MOS fell to 2.9 on Trunk")
    assert first["created_at"] == (START + 3 * H).isoformat()
    assert first["id"] != second["id"]
    assert {u["incident_id"] for u in resolved["incident_updates"]} == {resolved["id"]}
    assert first["affected_components"] == [{"code": "pub-trunk", "name": "Trunk"}]
    assert [c["id"] for c in resolved["components"]] == ["pub-trunk"]


def test_open_incident_has_one_update_and_is_in_the_summary() -> None:
    summary = document(_view(), "summary", URL)
    [unresolved] = summary["incidents"]
    assert unresolved["status"] == "investigating" and unresolved["impact"] == "minor"
    assert unresolved["resolved_at"] is None
    assert unresolved["name"] == "Jitter rose to 60 ms on Trunk"
    [update] = unresolved["incident_updates"]
    assert update["status"] == "investigating"


def test_scheduled_maintenances() -> None:
    windows = [
        _window(NOW - H, NOW + H, TRUNK.probe_id, "Trunk upgrade"),
        _window(NOW + H, NOW + 2 * H, None, "Core upgrade"),
        _window(NOW + H, NOW + 2 * H, uuid.uuid4(), "Another page's probe"),
    ]
    docs = document(_view(windows=windows), "scheduled-maintenances", URL)
    trunk, core = docs["scheduled_maintenances"]
    assert (trunk["name"], trunk["status"], trunk["impact"]) == (
        "Trunk upgrade",
        "in_progress",
        "maintenance",
    )
    assert trunk["scheduled_for"] == (NOW - H).isoformat()
    assert trunk["scheduled_until"] == (NOW + H).isoformat()
    assert [c["name"] for c in trunk["components"]] == ["Trunk"]
    assert (core["name"], core["status"]) == ("Core upgrade", "scheduled")
    assert [c["name"] for c in core["components"]] == ["Trunk", "Backup", "Voice", "API"]
