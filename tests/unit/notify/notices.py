"""Realistic notices for channel tests: a SIP trunk going down with two reasons, its
recovery, and Crisp's page event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from notify.payloads import (
    CrispHealthChanged,
    CrispHealthData,
    CrispNode,
    IncidentRef,
    Measured,
    PageRef,
    ProbeNotice,
    ProbeRef,
    ProjectRef,
)

AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
INCIDENT = IncidentRef(
    id=uuid.UUID("5b0f7a0e-3a8e-4c3e-9a3c-2f1d8e7c6b5a"),
    opened_at=AT,
    dedup_key="callprobe-incident-5b0f7a0e",
)
PAGE = PageRef(name="Acme status", url="https://status.acme.test/")
REASONS = [
    Measured(
        state="unhealthy",
        rule="mos critical",
        metric="mos",
        value=3.1,
        bound=3.5,
        location="ams",
        text="mos 3.10 below critical 3.50 at ams",
    ),
    Measured(
        state="degraded",
        rule="jitter warning",
        metric="jitter_ms",
        value=42.0,
        bound=30.0,
        location="fra",
        text="jitter 42.0 ms above warning 30.0 ms at fra",
    ),
]


def down(**fields: Any) -> ProbeNotice:
    """SIP trunk A turned unhealthy, in an incident shown on a page."""
    base: dict[str, Any] = {
        "type": "probe.health_changed",
        "id": "ntc_01",
        "occurred_at": AT,
        "project": ProjectRef(id=uuid.UUID(int=1), name="Acme voice"),
        "probe": ProbeRef(id=uuid.UUID(int=2), name="SIP trunk A", kind="sip_call", tags=["trunk"]),
        "from_state": "healthy",
        "to_state": "unhealthy",
        "cause": "mos below critical",
        "reasons": REASONS,
        "incident": INCIDENT,
        "pages": [PAGE],
    }
    return ProbeNotice(**(base | fields))


def recovered() -> ProbeNotice:
    return down(
        id="ntc_02",
        occurred_at=AT.replace(minute=41),
        from_state="unhealthy",
        to_state="healthy",
        cause="all rules pass",
        reasons=[],
    )


def crisp() -> CrispHealthChanged:
    nodes = [CrispNode(label="SIP trunk A", replica="ams"), CrispNode(label="IVR", replica="fra")]
    data = CrispHealthData(website_id="acme", health="dead", nodes=nodes)
    return CrispHealthChanged(website_id="acme", data=data, timestamp=1741944413000)
