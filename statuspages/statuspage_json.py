"""Atlassian Statuspage v2 compatible documents (summary, status, components,
incidents, scheduled maintenances), so existing widgets and integrations work.

Pure, from a :class:`PageView`. Statuspage has no "no data" status: components
without data are reported ``degraded_performance`` so no integration shows them
as operational (a gap is never up).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from statuspages.incidents import Incident
from statuspages.view import ComponentView, MaintenanceView, PageView
from thresholds.states import State

COMPONENT_STATUS = {
    State.HEALTHY: "operational",
    State.DEGRADED: "degraded_performance",
    State.UNHEALTHY: "major_outage",
    State.UNKNOWN: "degraded_performance",
}
INDICATOR = {
    State.HEALTHY: "none",
    State.DEGRADED: "minor",
    State.UNHEALTHY: "major",
    State.UNKNOWN: "minor",
}
IMPACT = {State.DEGRADED: "minor", State.UNHEALTHY: "major"}


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _id(*parts: str) -> str:
    """A stable opaque id (12 hex characters) for something without a stored one."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:12]


def page_doc(view: PageView, url: str) -> dict[str, Any]:
    return {
        "id": view.page.slug,
        "name": view.page.name,
        "url": url,
        "time_zone": view.page.time_zone,
        "updated_at": _iso(view.now),
    }


def status_doc(view: PageView) -> dict[str, Any]:
    return {"indicator": INDICATOR[view.state], "description": view.banner}


def components_doc(view: PageView) -> list[dict[str, Any]]:
    """Components and, for each group, a group component listing its members."""
    docs: list[dict[str, Any]] = []
    position = 0
    for group in view.groups:
        group_id = _id(view.page.slug, "group", group.name) if group.name else None
        members = []
        for component in group.components:
            position += 1
            members.append(component.public_id)
            docs.append(_component(view, component, position, group_id))
        if group.name and group_id:
            position += 1
            docs.append(
                {
                    **_base_component(view, group_id, group.name, "", position),
                    "status": COMPONENT_STATUS[group.state],
                    "group": True,
                    "components": members,
                }
            )
    return docs


def _base_component(
    view: PageView, component_id: str, name: str, description: str, position: int
) -> dict[str, Any]:
    return {
        "id": component_id,
        "name": name,
        "description": description or None,
        "position": position,
        "page_id": view.page.slug,
        "created_at": _iso(view.page.created_at),
        "updated_at": _iso(view.now),
        "showcase": True,
        "start_date": None,
        "group_id": None,
        "group": False,
        "only_show_if_degraded": False,
    }


def _component(
    view: PageView, component: ComponentView, position: int, group_id: str | None
) -> dict[str, Any]:
    status = (
        "under_maintenance" if component.under_maintenance else COMPONENT_STATUS[component.state]
    )
    doc = _base_component(
        view, component.public_id, component.name, component.description, position
    )
    return {**doc, "status": status, "group_id": group_id}


def incident_doc(view: PageView, incident: Incident, url: str) -> dict[str, Any]:
    incident_id = _id(view.page.slug, incident.component_id, incident.started.isoformat())
    status = "resolved" if incident.ended else "investigating"
    updates = [
        _update(incident_id, "investigating", incident.cause, incident.started, incident),
    ]
    if incident.ended:
        text = f"{incident.component} is operational again."
        updates.insert(0, _update(incident_id, "resolved", text, incident.ended, incident))
    return {
        "id": incident_id,
        "name": incident.cause,
        "status": status,
        "impact": IMPACT[incident.worst],
        "created_at": _iso(incident.started),
        "updated_at": _iso(incident.ended or incident.started),
        "started_at": _iso(incident.started),
        "monitoring_at": None,
        "resolved_at": _iso(incident.ended),
        "shortlink": url,
        "page_id": view.page.slug,
        "incident_updates": updates,
        "components": [c for c in components_doc(view) if c["id"] == incident.component_id],
    }


def _update(
    incident_id: str, status: str, body: str, at: datetime, incident: Incident
) -> dict[str, Any]:
    return {
        "id": _id(incident_id, status),
        "status": status,
        "body": body,
        "incident_id": incident_id,
        "created_at": _iso(at),
        "updated_at": _iso(at),
        "display_at": _iso(at),
        "affected_components": [{"code": incident.component_id, "name": incident.component}],
    }


def maintenance_doc(view: PageView, window: MaintenanceView, url: str) -> dict[str, Any]:
    names = set(window.components)
    status = "in_progress" if window.active else "scheduled"
    return {
        "id": window.id,
        "name": window.title,
        "status": status,
        "impact": "maintenance",
        "created_at": _iso(window.starts_at),
        "updated_at": _iso(view.now),
        "scheduled_for": _iso(window.starts_at),
        "scheduled_until": _iso(window.ends_at),
        "shortlink": url,
        "page_id": view.page.slug,
        "incident_updates": [],
        "components": [
            c for c in components_doc(view) if not names or (c["name"] in names and not c["group"])
        ],
    }


def document(view: PageView, name: str, url: str) -> dict[str, Any]:
    """One of summary, status, components, incidents, incidents/unresolved,
    scheduled-maintenances; KeyError for anything else."""
    page = page_doc(view, url)
    open_incidents = [i for i in view.incidents if i.ended is None]
    maintenances = [maintenance_doc(view, w, url) for w in view.maintenance]
    docs: dict[str, Callable[[], dict[str, Any]]] = {
        "summary": lambda: {
            "page": page,
            "status": status_doc(view),
            "components": components_doc(view),
            "incidents": [incident_doc(view, i, url) for i in open_incidents],
            "scheduled_maintenances": maintenances,
        },
        "status": lambda: {"page": page, "status": status_doc(view)},
        "components": lambda: {"page": page, "components": components_doc(view)},
        "incidents": lambda: {
            "page": page,
            "incidents": [incident_doc(view, i, url) for i in view.incidents[:50]],
        },
        "incidents/unresolved": lambda: {
            "page": page,
            "incidents": [incident_doc(view, i, url) for i in open_incidents],
        },
        "scheduled-maintenances": lambda: {"page": page, "scheduled_maintenances": maintenances},
    }
    return docs[name]()
