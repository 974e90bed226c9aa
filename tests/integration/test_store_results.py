from __future__ import annotations

import types
import typing
import uuid
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

import pytest

from probes.result import CallResult, Outcome
from store.results import COLUMNS, insert_results, recent_results

pytestmark = pytest.mark.db

SQL_TYPES = {
    uuid.UUID: "uuid",
    datetime: "timestamp with time zone",
    str: "text",
    Outcome: "text",
    int: "integer",
    float: "double precision",
}
T0 = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _base_type(hint: object) -> object:
    if isinstance(hint, types.UnionType):
        return next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return hint


def _every_field_set(probe: str) -> CallResult:
    """A result with every field given a distinct non-None value, whatever fields exist."""
    hints = typing.get_type_hints(CallResult)
    values: dict[str, object] = {}
    for index, field in enumerate(fields(CallResult)):
        kind = _base_type(hints[field.name])
        if kind is float:
            values[field.name] = index + 0.25
        elif kind is int:
            values[field.name] = 1000 + index
        elif kind is str:
            values[field.name] = f"{field.name} é ☎"
        elif kind is uuid.UUID:
            values[field.name] = uuid.uuid4()
    values.update(run_id=uuid.uuid4(), probe=probe, started_at=T0, outcome=Outcome.SIP_ERROR)
    return CallResult(**values)  # type: ignore[arg-type]


def _results(probe: str, count: int) -> list[CallResult]:
    return [
        CallResult(
            probe=probe,
            target="sip:echo@192.0.2.1",
            outcome=Outcome.OK,
            started_at=T0 + timedelta(minutes=i),
        )
        for i in range(count)
    ]


def _probe() -> str:
    return f"probe-{uuid.uuid4()}"


def test_one_typed_column_per_field_in_field_order(conn, run) -> None:
    async def columns():
        cur = await conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = 'call_results' ORDER BY ordinal_position"
        )
        return await cur.fetchall()

    hints = typing.get_type_hints(CallResult)
    expected = [(name, SQL_TYPES[_base_type(hints[name])]) for name in COLUMNS]
    # project_id is the store's, stamped on ingest from the probe's project, and
    # received_at the database's own (its default); columns added by later migrations
    # follow them (COPY and the API name columns, never place).
    found = run(columns())
    store_columns = {"project_id": "uuid", "received_at": "timestamp with time zone"}
    assert [column for column in found if column[0] not in store_columns] == expected
    assert set(store_columns.items()) <= set(found)


def test_every_field_round_trips(conn, run) -> None:
    result = _every_field_set(_probe())
    assert all(getattr(result, field.name) is not None for field in fields(CallResult))
    assert run(insert_results(conn, [result])) == 1
    assert run(recent_results(conn, result.probe, 10)) == [result]


def test_every_outcome_is_accepted(conn, run) -> None:
    probe = _probe()
    batch = [
        replace(r, outcome=o) for r, o in zip(_results(probe, len(Outcome)), Outcome, strict=True)
    ]
    assert run(insert_results(conn, batch)) == len(Outcome)
    assert {r.outcome for r in run(recent_results(conn, probe, 100))} == set(Outcome)


def test_reinserting_is_a_no_op(conn, run) -> None:
    probe = _probe()
    first = _results(probe, 3)
    assert run(insert_results(conn, first)) == 3
    assert run(insert_results(conn, first)) == 0
    assert run(insert_results(conn, [*first[:2], *_results(probe, 1)])) == 1
    assert len(run(recent_results(conn, probe, 100))) == 4


def test_recent_results_are_newest_first_and_limited(conn, run) -> None:
    probe = _probe()
    batch = _results(probe, 5)
    run(insert_results(conn, batch))
    run(insert_results(conn, _results(_probe(), 2)))
    assert run(recent_results(conn, probe, 3)) == batch[::-1][:3]


def test_inserting_nothing_inserts_nothing(conn, run) -> None:
    assert run(insert_results(conn, [])) == 0
