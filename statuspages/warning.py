"""The support-site warning: whether a page has been down long enough that a support
site should warn its visitors (Crisp's "dead for more than 3 minutes" chatbox warning).

Pure, from a :class:`PageView`. The page is down while at least one component is
unhealthy, i.e. while its banner says "Major Issues Detected" (the page's worst state);
degraded and no-data components never make it down, whatever ``degraded_is_up`` says,
because a warning for slowness would cry wolf. The outage began when the earliest of
the unhealthy components became unhealthy. Only customer-facing names are in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from statuspages.view import PageView
from thresholds.states import State

DEFAULT_AFTER_MINUTES = 3
MAX_AFTER_MINUTES = 1440


@dataclass(frozen=True, kw_only=True, slots=True)
class SiteWarning:
    """What a support site's banner needs; ``show`` says whether to show it now."""

    name: str
    url: str
    color: str
    text: str
    state: State
    down: bool
    down_since: datetime | None
    """When the outage began (None while up, or when it began before the loaded history)."""
    affected: list[str]
    after_minutes: int
    show: bool
    now: datetime


def site_warning(view: PageView, url: str, after_minutes: int) -> SiteWarning:
    """The warning for ``view`` at ``url``: ``show`` once it has been down for at least
    ``after_minutes`` minutes (0: as soon as it is down)."""
    down = [c for c in view.components if c.state is State.UNHEALTHY]
    starts = [c.since for c in down]
    since = None if not down or None in starts else min(s for s in starts if s)
    long_enough = since is None or view.now - since >= timedelta(minutes=after_minutes)
    return SiteWarning(
        name=view.page.name,
        url=url,
        color=view.page.primary_color,
        text=view.banner,
        state=view.state,
        down=bool(down),
        down_since=since,
        affected=[c.name for c in down],
        after_minutes=after_minutes,
        show=bool(down) and long_enough,
        now=view.now,
    )


def document(warning: SiteWarning) -> dict[str, Any]:
    """The warning as the public JSON the script reads."""
    since = warning.down_since
    return {
        "page": {"name": warning.name, "url": warning.url, "color": warning.color},
        "state": warning.state.value,
        "text": warning.text,
        "down": warning.down,
        "down_since": None if since is None else since.isoformat(),
        "affected": warning.affected,
        "after_minutes": warning.after_minutes,
        "show": warning.show,
        "updated_at": warning.now.isoformat(),
    }
