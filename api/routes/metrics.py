"""``/metrics``: the service's own counters (``api.telemetry``) and, per scrape, each
probe's gauges.

``/metrics`` answers by who scrapes. The admin token gets the service metrics: the
default registry (per process; scrape every replica) and this process's database
pool. A project's API key gets only its own probes' gauges, read from the store at
scrape time, so every replica answers the same and no tenant sees another's probes
or anything about the platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from api.security.auth import API_KEY_PREFIX, Principal, require_admin, require_read
from api.state import State
from store import probe_metrics

STATE_VALUES = {"healthy": 0.0, "degraded": 1.0, "unhealthy": 2.0, "unknown": -1.0}
"""Gauge encoding of states: higher is worse, -1 for no data."""

router = APIRouter(tags=["metrics"])

_scrape_token = HTTPBearer(
    scheme_name="metricsToken",
    description="CALLPROBE_ADMIN_TOKEN (service metrics) or an API key `cp_…` (its probes)",
    auto_error=False,
)


async def scraper(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_scrape_token)],
) -> Principal | None:
    """The API key's principal, or None for the admin token (401/403 otherwise)."""
    if credentials is not None and not credentials.credentials.startswith(API_KEY_PREFIX):
        await require_admin(request, credentials)
        return None
    return await require_read(request, credentials)


@router.get("/metrics", response_class=Response)
async def scrape(st: State, principal: Annotated[Principal | None, Depends(scraper)]) -> Response:
    """Prometheus text format: service metrics for the admin token, the project's probe
    gauges for an API key."""
    if principal is None:
        pool = _registry(_pool_families(st.pool.get_stats()))
        body = generate_latest(REGISTRY) + generate_latest(pool)
    else:
        async with st.transaction() as conn:
            rows = await probe_metrics.latest(conn, principal.project_id)
        body = generate_latest(_registry(_probe_families(rows)))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _registry(families: Sequence[GaugeMetricFamily | CounterMetricFamily]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    for family in families:
        registry.register(_Static(family))
    return registry


def _probe_families(rows: list[probe_metrics.ProbeGauge]) -> list[GaugeMetricFamily]:
    labels = ["probe", "probe_id", "kind"]
    state = GaugeMetricFamily(
        "callprobe_probe_state",
        "Health: 0 healthy, 1 degraded, 2 unhealthy, -1 unknown.",
        labels=labels,
    )
    families = {
        name: GaugeMetricFamily(f"callprobe_probe_{name}", help_text, labels=labels)
        for name, help_text in probe_metrics.GAUGES.items()
    }
    for row in rows:
        values = [row.name, str(row.probe_id), row.kind]
        state.add_metric(values, STATE_VALUES.get(row.state, -1.0))
        for name, value in row.values.items():
            if value is not None:
                families[name].add_metric(values, value)
    return [state, *families.values()]


POOL_GAUGES = {
    "pool_size": "Connections in this process's pool.",
    "pool_available": "Idle connections in this process's pool.",
    "requests_waiting": "Requests waiting for a pooled connection now.",
}
POOL_COUNTERS = {
    "requests_num": ("requests", "Connections requested from the pool."),
    "requests_queued": ("requests_queued", "Requests that had to wait for a connection."),
    "requests_wait_ms": ("requests_wait_seconds", "Time spent waiting for a connection."),
    "usage_ms": ("usage_seconds", "Time connections were lent out."),
    "connections_num": ("connections", "Connections opened to the database."),
}


def _pool_families(stats: dict[str, int]) -> list[GaugeMetricFamily | CounterMetricFamily]:
    """This process's psycopg pool statistics (each API process has its own pool)."""
    families: list[GaugeMetricFamily | CounterMetricFamily] = []
    for key, help_text in POOL_GAUGES.items():
        families.append(GaugeMetricFamily(f"callprobe_db_{key}", help_text, stats.get(key, 0)))
    for key, (name, help_text) in POOL_COUNTERS.items():
        value = stats.get(key, 0) / (1000 if key.endswith("_ms") else 1)
        families.append(CounterMetricFamily(f"callprobe_db_{name}", help_text, value))
    return families


class _Static:
    """A collector that yields one prepared family (the registry's collector protocol)."""

    def __init__(self, family: GaugeMetricFamily | CounterMetricFamily) -> None:
        self.family = family

    def collect(self) -> list[GaugeMetricFamily | CounterMetricFamily]:
        return [self.family]
