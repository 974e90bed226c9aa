"""The documents a test send delivers: realistic values, marked as a test.

A probe channel gets a ``ProbeNotice`` of type ``test`` about an example trunk whose MOS
fell below its critical bound; a Crisp-format webhook gets a ``status:health:changed``
event for an example page. Neither names a real probe or page of the project.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from notify.payloads import (
    CrispHealthChanged,
    CrispHealthData,
    CrispNode,
    IncidentRef,
    Measured,
    ProbeNotice,
    ProbeRef,
    ProjectRef,
)
from store.channels import ChannelRow

EXAMPLE_PROBE = uuid.UUID("00000000-0000-4000-8000-00000000e5a1")
"""The example probe's id: fixed, so a test send never looks like a new probe."""
EXAMPLE_CAUSE = "mos 3.10 below critical 3.50 at ams"


def sample(row: ChannelRow, project_name: str, now: datetime) -> tuple[str, dict[str, Any]]:
    """The delivery kind and payload of a test send through ``row``."""
    if row.config.get("format") == "crisp":
        event = crisp_sample(now)
        return event.event, event.model_dump(mode="json")
    notice = probe_sample(row, project_name, now)
    return notice.type, notice.model_dump(mode="json")


def probe_sample(row: ChannelRow, project_name: str, now: datetime) -> ProbeNotice:
    reason = Measured(
        state="unhealthy",
        rule="critical",
        metric="mos",
        value=3.1,
        bound=3.5,
        location="ams",
        text=EXAMPLE_CAUSE,
    )
    return ProbeNotice(
        type="test",
        id=f"test_{uuid.uuid4().hex}",
        occurred_at=now,
        project=ProjectRef(id=row.project_id, name=project_name),
        probe=ProbeRef(id=EXAMPLE_PROBE, name="Example SIP trunk", kind="sip_call", tags=["test"]),
        from_state="healthy",
        to_state="unhealthy",
        cause=EXAMPLE_CAUSE,
        reasons=[reason],
        incident=IncidentRef(opened_at=now, dedup_key=f"callprobe-test-{row.id}"),
    )


def crisp_sample(now: datetime) -> CrispHealthChanged:
    data = CrispHealthData(
        website_id="example-status",
        health="sick",
        nodes=[CrispNode(label="Example SIP trunk", replica="ams")],
    )
    return CrispHealthChanged(
        website_id="example-status", data=data, timestamp=int(now.timestamp() * 1000)
    )
