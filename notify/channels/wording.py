"""How a probe notice reads, in every channel: one headline, the facts, the measured values.

Plugins only lay these out in their provider's format, so no two channels phrase a notice
differently. Plain text: each plugin escapes for its own markup.
"""

from __future__ import annotations

from datetime import UTC

from notify.payloads import PageRef, ProbeNotice


def headline(notice: ProbeNotice) -> str:
    """The one-line summary: "SIP trunk A is unhealthy", "SIP trunk A recovered"."""
    name, state = notice.probe.name, notice.to_state
    if notice.type == "test":
        return f"Test notice from callprobe for {name}"
    if notice.type == "probe.flapping" and notice.flapping is not None:
        flap = notice.flapping
        return f"{name} is flapping ({flap.changes} changes in {flap.window_minutes:g} min)"
    if notice.type == "probe.settled":
        return f"{name} stopped flapping and is {state}"
    if notice.type == "probe.reminder":
        return f"{name} is still {state}{_open_for(notice)}"
    if state == "healthy" and notice.from_state != "unknown":
        return f"{name} recovered"
    return f"{name} is {state}"


def _open_for(notice: ProbeNotice) -> str:
    if notice.reminder is None:
        return ""
    return f" (for {duration(notice.reminder.open_for_s)})"


def duration(seconds: float) -> str:
    """``3h 05m``, ``12m``, ``40s``: how long something has lasted."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def measured(notice: ProbeNotice) -> list[str]:
    """One line per reason, as the rule that decided wrote it ("mos 3.10 below critical
    3.50 at ams")."""
    return [reason.text for reason in notice.reasons]


def facts(notice: ProbeNotice) -> list[tuple[str, str]]:
    """The notice's facts as (label, value) pairs, in the order every channel shows them."""
    rows = [
        ("State", f"{notice.to_state} (was {notice.from_state})"),
        ("Probe", f"{notice.probe.name} ({notice.probe.kind})"),
        ("Project", notice.project.name),
        ("Cause", notice.cause),
        ("Time", when(notice)),
    ]
    incident = notice.incident
    if incident is not None and incident.opened_at is not None:
        rows.append(("Incident opened", incident.opened_at.astimezone(UTC).strftime(_TIME)))
    return rows


_TIME = "%Y-%m-%d %H:%M:%S UTC"


def when(notice: ProbeNotice) -> str:
    return notice.occurred_at.astimezone(UTC).strftime(_TIME)


def page(notice: ProbeNotice) -> PageRef | None:
    """The status page a notice links to: the first that shows the probe."""
    return notice.pages[0] if notice.pages else None


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: providers' limits are met by
    truncating, never by refusing a notice at send time."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
