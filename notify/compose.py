"""The documents of :mod:`notify.payloads`, assembled from what the store knows.

Pure: the router passes the facts it read and the page address maker the API gives it
(addresses come from configuration, never from a request).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notify.payloads import (
    CRISP_HEALTH,
    CrispHealthChanged,
    CrispHealthData,
    CrispNode,
    Flapping,
    IncidentRef,
    Measured,
    NoticeType,
    PageRef,
    ProbeNotice,
    ProbeRef,
    ProjectRef,
    Reminder,
)
from store.notices import PageComponent, PageOfProbe, ProbeFacts

PageAddress = Callable[[str, str | None], str]
"""(slug, verified custom domain) -> the page's public address."""

_RANK = {"unknown": 0, "healthy": 0, "degraded": 1, "unhealthy": 2}


@dataclass(frozen=True, kw_only=True, slots=True)
class Happening:
    """What a notice tells: the change (or the clock's news) and why."""

    id: str
    type: NoticeType
    at: datetime
    from_state: str
    to_state: str
    cause: str
    reasons: Sequence[dict[str, Any]]
    incident_id: uuid.UUID | None
    incident_opened_at: datetime | None
    alert_key: str | None
    flapping: Flapping | None = None
    reminder: Reminder | None = None


def probe_notice(
    happening: Happening,
    facts: ProbeFacts,
    pages: Sequence[PageOfProbe],
    address: PageAddress,
) -> ProbeNotice:
    """The version-1 notice about one probe."""
    incident = None
    if happening.alert_key is not None:
        incident = IncidentRef(
            id=happening.incident_id,
            opened_at=happening.incident_opened_at,
            dedup_key=happening.alert_key,
        )
    return ProbeNotice(
        type=happening.type,
        id=happening.id,
        occurred_at=happening.at,
        project=ProjectRef(id=facts.project_id, name=facts.project_name),
        probe=ProbeRef(id=facts.probe_id, name=facts.name, kind=facts.kind, tags=facts.tags),
        from_state=happening.from_state,  # type: ignore[arg-type]
        to_state=happening.to_state,  # type: ignore[arg-type]
        cause=happening.cause,
        reasons=[_measured(reason) for reason in happening.reasons],
        incident=incident,
        pages=[PageRef(name=p.name, url=address(p.slug, p.custom_domain)) for p in pages],
        flapping=happening.flapping,
        reminder=happening.reminder,
    )


def page_health(components: Sequence[PageComponent]) -> str:
    """The page's worst component state ('unknown' counts as healthy, as in Crisp)."""
    worst = max((c.state for c in components), key=_RANK.__getitem__, default="healthy")
    return CRISP_HEALTH[worst]


def crisp_event(slug: str, components: Sequence[PageComponent], at: datetime) -> CrispHealthChanged:
    """Crisp's ``status:health:changed`` for a page: its health and the components that
    are not healthy, one node per bad location (``replica``; "all" when the probe is bad
    as a whole without a location to blame)."""
    nodes = [
        CrispNode(label=component.name, replica=replica)
        for component in components
        if _RANK[component.state] > 0
        for replica in component.bad_locations or ["all"]
    ]
    data = CrispHealthData(website_id=slug, health=page_health(components), nodes=nodes)  # type: ignore[arg-type]
    return CrispHealthChanged(website_id=slug, data=data, timestamp=int(at.timestamp() * 1000))


def _measured(reason: dict[str, Any]) -> Measured:
    fields = ("state", "rule", "metric", "value", "bound", "location", "text")
    return Measured.model_validate({name: reason.get(name) for name in fields if name in reason})
