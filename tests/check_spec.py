"""Check runs as the agent builds them from a lease, for tests of the probe kinds."""

from __future__ import annotations

import uuid
from typing import Any

from probes.kinds.checks import CheckSpec
from probes.kinds.options import parse_options


def check_spec(
    kind: str,
    target: str,
    *,
    timeout_s: float = 2.0,
    name: str = "test",
    probe_id: uuid.UUID | None = None,
    secret: str | None = None,
    location: str | None = None,
    **options: Any,
) -> CheckSpec:
    """A new run of ``kind`` against ``target``; ``options`` parsed as the agent parses them."""
    return CheckSpec(
        run_id=uuid.uuid4(),
        probe_id=probe_id,
        probe_name=name,
        kind=kind,
        target=target,
        timeout_s=timeout_s,
        options=parse_options(kind, options),
        secret=secret,
        location=location,
    )
