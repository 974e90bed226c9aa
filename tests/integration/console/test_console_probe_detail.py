"""Probe detail and the per-call page, against the real app and TimescaleDB.

A (disabled, so only the test decides its health) probe at two locations gets five
results through ``store.results`` (as ingest stores them), a recorded state per location
and an open incident; the pages must show exactly those.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.console import probe_detail
from api.settings import Settings
from probes.result import CallResult, Outcome
from store import health, locations, probes, projects, results
from store.pool import AsyncConn, transaction
from store.results import COLUMNS
from tests.conftest import Run
from tests.integration.console.conftest import Person
from thresholds.transitions import StateRecord

pytestmark = pytest.mark.db

REASON = {
    "state": "degraded", "rule": "warning", "metric": "mos", "value": 3.85, "bound": 4.0,
    "location": "ams", "text": "mos 3.85 below warning 4.00 at ams",
}  # fmt: skip
CHARTS = re.compile(r'<script type="application/json" id="probe-charts">(.*?)</script>', re.S)


@dataclass(frozen=True)
class World:
    """The seeded probe and its runs by name."""

    probe_id: uuid.UUID
    runs: dict[str, uuid.UUID]


def seeded_results(probe_id: uuid.UUID, now: datetime) -> dict[str, CallResult]:
    """A scored call, a silent one, a busy one, a dropped one (all in the last hour) and a
    scored call three days ago."""
    call = {"target": "sip:trunk@192.0.2.10", "probe": "trunk", "probe_id": probe_id,
            "codec": "PCMU", "answer_codecs": "PCMU/8000",
            "media_direction": "sendrecv"}  # fmt: skip
    answered = {"sip_status": 200, "sip_reason": "OK", "provisional_status": 180}
    scored = {
        **answered, "pdd_ms": 180.0, "setup_ms": 900.0, "talk_s": 8.0, "ended_by": "probe",
        "rx_packets": 400, "rx_lost": 20, "rx_loss_pct": 5.0, "jitter_ms": 3.2, "rtt_ms": 120.0,
        "pesq_mos": 4.1, "pesq_ceiling": 4.2, "emodel_mos": 3.85, "r_factor": 75.74,
        "r0": 94.77, "ie_eff": 15.78, "id_delay": 1.83,
    }  # fmt: skip
    return {
        "ok": CallResult(**call, **scored, location="ams", outcome=Outcome.OK,
                         started_at=now - timedelta(minutes=32)),
        "silent": CallResult(**call, **answered, location="fra", outcome=Outcome.NO_AUDIO,
                             setup_ms=500.0, talk_s=5.0, rx_packets=0, tx_packets=250,
                             audio_failed="inbound", started_at=now - timedelta(minutes=22)),
        "busy": CallResult(**call, location="ams", outcome=Outcome.SIP_ERROR, sip_status=486,
                           sip_reason="Busy Here", provisional_status=180, pdd_ms=150.0,
                           started_at=now - timedelta(minutes=12)),
        "dropped": CallResult(**call, **answered, location="ams", outcome=Outcome.DROPPED,
                              pdd_ms=100.0, setup_ms=700.0, ended_by="far_end",
                              dropped_after_ms=2500.0, end_reason="Q.850;cause=16",
                              started_at=now - timedelta(minutes=42)),
        "old": CallResult(**call, **{**scored, "pesq_mos": 3.2}, location="ams",
                          outcome=Outcome.OK, started_at=now - timedelta(days=3)),
    }  # fmt: skip


async def seed(conn: AsyncConn, project_id: uuid.UUID, now: datetime) -> World:
    """The probe at ams and fra with its results, states and an open incident."""
    place_ids = [(await locations.create_location(conn, project_id, n)).id for n in ("ams", "fra")]
    fields = probes.ProbeFields(
        name="Primary trunk", kind="sip_call", target="sip:trunk@192.0.2.10", replicas=[],
        interval_s=60, timeout_s=30.0, enabled=False, options={}, policy={}, tags=["carrier"],
    )  # fmt: skip
    probe = await probes.create_probe(conn, project_id, fields, location_ids=place_ids)
    made = seeded_results(probe.id, now)
    await results.record_results(conn, list(made.values()), project_id)
    states = [("", "degraded", [REASON]), ("ams", "degraded", [REASON]), ("fra", "healthy", [])]
    await health.save_health(conn, {probe.id: [
        StateRecord(location=place, state=state, at=now, reasons=why, evaluated_at=now)
        for place, state, why in states
    ]})  # fmt: skip
    await conn.execute(
        "INSERT INTO incidents (project_id, probe_id, opened_at, worst_state, cause)"
        " VALUES (%s, %s, %s, 'degraded', %s)",
        (project_id, probe.id, now, REASON["text"]),
    )
    # The states above are set by hand: take back the mark the new probe got, so the app's
    # judging loop never re-judges them from the seeded results.
    await conn.execute("DELETE FROM judging_queue WHERE probe_id = %s", (probe.id,))
    return World(probe_id=probe.id, runs={name: r.run_id for name, r in made.items()})


@pytest.fixture
def world(run: Run[Any], api_settings: Settings, project: uuid.UUID) -> World:
    async def make() -> World:
        async with transaction(api_settings.resolved_database_url) as conn:
            return await seed(conn, project, datetime.now(UTC))

    return run(make())


def text_of(response: Any) -> str:
    """The page's text, tags dropped and entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def charts(who: Person, world: World, **params: str) -> dict[str, Any]:
    page = who.client.get(who.path(f"/probes/{world.probe_id}"), params=params)
    assert page.status_code == 200, page.text
    found = CHARTS.search(page.text)
    assert found is not None
    document: dict[str, Any] = json.loads(found.group(1))
    return document


def values(document: dict[str, Any], chart: str, line: str) -> list[float | None]:
    """The values of a chart's line ``line`` (at every location)."""
    [drawn] = [c for c in document["charts"] if c["id"] == chart]
    named = [s for s in drawn["series"] if s["name"] == line or s["name"].startswith(f"{line} at ")]
    return [v for s in named for v in s["y"]]


def measured(document: dict[str, Any], chart: str, line: str) -> list[float]:
    return sorted(v for v in values(document, chart, line) if v is not None)


def test_health_per_location_shows_state_rule_and_value(viewer: Person, world: World) -> None:
    page = viewer.client.get(viewer.path(f"/probes/{world.probe_id}"))
    assert page.status_code == 200
    rows = re.findall(
        r"<tr>\s*<td>([^<]+)</td>\s*<td><span class=\"state st-(\w+)\">(\w+)<", page.text
    )
    assert rows == [
        ("All locations", "degraded", "degraded"),
        ("ams", "degraded", "degraded"),
        ("fra", "healthy", "healthy"),
    ]
    words = text_of(page)
    assert (
        "mos 3.85 below warning 4.00 at ams (rule warning, metric mos, value 3.85, bound 4.00)"
        in words
    )
    assert "degraded since" in words and REASON["text"] in words  # the open incident
    assert f'href="/console/p/{viewer.project_id}/probes/{world.probe_id}/edit"' not in page.text


def test_editors_get_links_to_change_the_probe(owner: Person, world: World) -> None:
    page = owner.client.get(owner.path(f"/probes/{world.probe_id}"))
    assert f'href="/console/p/{owner.project_id}/probes/{world.probe_id}/edit"' in page.text


def test_chart_data_holds_the_seeded_values_for_each_range(viewer: Person, world: World) -> None:
    day = charts(viewer, world, range="24h")
    assert day["mode"] == "each result"
    assert measured(day, "mos", "PESQ") == [4.1]
    assert measured(day, "mos", "PESQ codec ceiling") == [4.2]
    assert measured(day, "mos", "E-model MOS") == [3.85]
    assert measured(day, "loss", "received") == [5.0]  # the silent call: no point, never 0 %
    assert measured(day, "r", "R") == [75.74]
    assert measured(day, "r", "Ie-eff (codec and loss)") == [15.78]
    assert measured(day, "setup", "setup") == [500, 700, 900]
    assert measured(day, "pdd", "PDD") == [100, 150, 180]

    hour = charts(viewer, world, range="1h")
    assert measured(hour, "asr", "ASR") == [0, 100, 100, 100]

    for name in ("7d", "30d", "90d"):
        hourly = charts(viewer, world, range=name)
        assert hourly["mode"] == "hourly means" and hourly["range"] == name
        assert measured(hourly, "mos", "PESQ") == [3.2, 4.1]
        assert measured(hourly, "rtt", "RTT") == [120, 120]

    start = datetime.now(UTC) - timedelta(days=3, hours=1)
    stamp = "%Y-%m-%dT%H:%M"
    span = {"from": start.strftime(stamp), "to": (start + timedelta(hours=2)).strftime(stamp)}
    custom = charts(viewer, world, **span)
    assert custom["range"] == "custom" and custom["mode"] == "each result"
    assert measured(custom, "mos", "PESQ") == [3.2]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"range": "2h"}, "unknown range '2h': choose 1h, 24h, 7d, 30d or 90d"),
        ({"from": "yesterday"}, "'from' is not a date and time such as 2025-05-01T09:30"),
        ({"from": "2025-05-02T00:00", "to": "2025-05-01T00:00"}, "'from' must be before 'to'"),
        ({"from": "2020-01-01T00:00", "to": "2025-01-01T00:00"}, "at most 400 days"),
    ],
)
def test_a_bad_range_says_what_is_wrong(
    viewer: Person, world: World, params: dict[str, str], message: str
) -> None:
    page = viewer.client.get(viewer.path(f"/probes/{world.probe_id}"), params=params)
    assert page.status_code == 400
    assert message in text_of(page)
    assert (
        viewer.client.get(
            viewer.path(f"/probes/{world.probe_id}/results.csv"), params=params
        ).status_code
        == 400
    )


def run_links(page: Any) -> list[str]:
    return re.findall(r'/calls/([0-9a-f-]{36})"', page.text)


def test_results_table_filters_and_pages(
    viewer: Person, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = viewer.path(f"/probes/{world.probe_id}")
    newest_first = [str(world.runs[n]) for n in ("busy", "silent", "ok", "dropped")]
    assert run_links(viewer.client.get(path)) == newest_first
    assert run_links(viewer.client.get(path, params={"range": "7d"})) == [
        *newest_first,
        str(world.runs["old"]),
    ]
    busy = viewer.client.get(path, params={"outcome": "sip_error"})
    assert run_links(busy) == [str(world.runs["busy"])]
    assert run_links(viewer.client.get(path, params={"location": "fra"})) == [
        str(world.runs["silent"])
    ]
    assert "unknown outcome 'nope'" in text_of(viewer.client.get(path, params={"outcome": "nope"}))

    monkeypatch.setattr(probe_detail, "PAGE_SIZE", 3)
    first = viewer.client.get(path)
    assert run_links(first) == newest_first[:3] and "Older" in first.text
    second = viewer.client.get(path, params={"page": "2"})
    assert run_links(second) == newest_first[3:] and "Newer" in second.text


def test_csv_export_has_the_api_columns(viewer: Person, world: World) -> None:
    exported = viewer.client.get(
        viewer.path(f"/probes/{world.probe_id}/results.csv"), params={"range": "7d"}
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert tuple(rows[0]) == COLUMNS
    by_run = {
        row[COLUMNS.index("run_id")]: dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]
    }
    assert set(by_run) == {str(run) for run in world.runs.values()}
    assert by_run[str(world.runs["ok"])]["pesq_mos"] == "4.1"
    assert by_run[str(world.runs["silent"])]["pesq_mos"] == ""


def test_the_call_page_explains_the_call(viewer: Person, world: World) -> None:
    page = viewer.client.get(viewer.path(f"/probes/{world.probe_id}/calls/{world.runs['ok']}"))
    assert page.status_code == 200
    words = text_of(page)
    assert "E-model: R 75.7: codec 0.0, loss 15.8, delay 1.8" in words
    assert "The call was answered and its audio measured." in words
    steps = re.findall(r'<td class="num">([\d.]+) ms</td><td>([^<]+)</td>', page.text)
    assert steps == [
        ("0.0", "INVITE sent"),
        ("180.0", "First provisional response (highest 180)"),
        ("900.0", "Answer: 200 OK"),
        ("8900.0", "BYE from the probe after the talk time"),
    ]
    details = (
        "Final answer 200 OK",
        "Provisional (highest 1xx) 180",
        "Answer codecs PCMU/8000",
        "Media direction sendrecv",
        "Ended by the probe",
        "PESQ 4.10 MOS-LQO",
        "Jitter, mean (RFC 3550) 3.20 ms",
        "Audio failed no",
    )
    for seen in details:
        assert seen in words, seen


def test_a_dropped_call_shows_who_ended_it(viewer: Person, world: World) -> None:
    page = viewer.client.get(viewer.path(f"/probes/{world.probe_id}/calls/{world.runs['dropped']}"))
    assert "3200.0 ms BYE from the far end (Reason: Q.850;cause=16)" in text_of(page)
    assert "Reason header Q.850;cause=16" in text_of(page)


def test_a_silent_call_shows_no_mos_and_says_why(viewer: Person, world: World) -> None:
    page = viewer.client.get(viewer.path(f"/probes/{world.probe_id}/calls/{world.runs['silent']}"))
    words = text_of(page)
    assert "No MOS: no audio (or only silence) reached the probe" in words
    assert "E-model:" not in words
    assert "PESQ not measured" in words and "E-model MOS not measured" in words
    assert "Audio failed inbound" in words


def test_another_projects_call_is_not_found(
    run: Run[Any], api_settings: Settings, owner: Person, world: World
) -> None:
    async def elsewhere() -> World:
        async with transaction(api_settings.resolved_database_url) as conn:
            other = await projects.create_project(conn, f"other-{uuid.uuid4().hex[:8]}")
            return await seed(conn, other.id, datetime.now(UTC))

    theirs = run(elsewhere())
    paths = [
        f"/probes/{theirs.probe_id}/calls/{theirs.runs['ok']}",
        f"/probes/{world.probe_id}/calls/{theirs.runs['ok']}",
        f"/probes/{world.probe_id}/calls/{uuid.uuid4()}",
        f"/probes/{world.probe_id}/calls/not-a-run",
        f"/probes/{theirs.probe_id}",
        f"/probes/{theirs.probe_id}/results.csv",
    ]
    for path in paths:
        page = owner.client.get(owner.path(path))
        assert page.status_code == 404, path
        assert "Not found" in page.text, path
