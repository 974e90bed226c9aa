"""The overview: each probe's state in words and icon, its latest hour's measurements and
a 24-hour MOS sparkline drawn on the server, the open incidents, agents online and
offline."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from api.settings import Settings
from store import agents, locations, results
from store.pool import transaction
from tests.conftest import Run
from tests.integration.console.conftest import Person
from tests.integration.console.test_console_probe_detail import seed, seeded_results

pytestmark = pytest.mark.db


def test_the_overview_shows_state_measurements_sparkline_incidents_and_agents(
    run: Run[Any], api_settings: Settings, project: uuid.UUID, viewer: Person
) -> None:
    now = datetime.now(UTC)

    async def make() -> None:
        async with transaction(api_settings.resolved_database_url) as conn:
            world = await seed(conn, project, now)
            earlier = dataclasses.replace(
                seeded_results(world.probe_id, now)["ok"],
                run_id=uuid.uuid4(), started_at=now - timedelta(hours=5), pesq_mos=3.6,
            )  # fmt: skip
            await results.record_results(conn, [earlier], project)
            place = (await locations.list_locations(conn, project))[0].id
            for name in ("seen", "silent"):
                await agents.create_agent(
                    conn, project_id=project, location_id=place, name=name,
                    prefix=name, token_hash=uuid.uuid4().bytes * 2,
                )  # fmt: skip

    run(make())
    with psycopg.connect(api_settings.resolved_database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE agents SET last_seen = now() WHERE project_id = %s AND name = 'seen'",
            (project,),
        )
    page = viewer.client.get(viewer.path())
    assert page.status_code == 200
    row = re.search(r"<tr>\s*<td><a [^>]*>Primary trunk</a>.*?</tr>", page.text, re.S)
    assert row, page.text
    assert '<span class="state st-degraded">degraded</span>' in row.group(0)
    spark = re.search(
        r'aria-label="MOS over the last 24 hours: ([\d.]+) to ([\d.]+)"', row.group(0)
    )
    assert spark and (spark.group(1), spark.group(2)) == ("3.60", "4.10")
    assert len(re.findall(r"\d+\.\d,\d+\.\d", row.group(0))) == 2
    assert "Primary trunk since" in page.text and "MOS fell" not in page.text
    assert re.search(r'st-healthy">online</span> seen at ams', page.text)
    assert re.search(r'st-unhealthy">offline</span> silent at ams', page.text)
    assert 'data-refresh="15"' in page.text
