"""Whether planned maintenance holds a notice back, and until when.

A window covers a probe when it is the probe's own, one of a page that shows the probe,
or its whole project's (neither probe nor page).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from store.notices import Window


def quiet_until(
    windows: Sequence[Window],
    project_id: uuid.UUID,
    probe_id: uuid.UUID | None,
    page_ids: Sequence[uuid.UUID],
    at: datetime,
) -> datetime | None:
    """The end of the maintenance covering ``at`` for this probe (or these pages); None
    when none does."""
    ends = [
        w.ends_at
        for w in windows
        if w.project_id == project_id
        and w.starts_at <= at < w.ends_at
        and (
            (w.probe_id is None and w.page_id is None)
            or (probe_id is not None and w.probe_id == probe_id)
            or (w.page_id is not None and w.page_id in page_ids)
        )
    ]
    return max(ends, default=None)
