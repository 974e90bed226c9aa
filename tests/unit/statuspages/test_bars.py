"""The bar memo: a page built with it equals one built without, whatever changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from statuspages.bars import BarMemo
from statuspages.render import page_html
from statuspages.view import PageView, build
from store.page_data import PlannedWindow
from store.state_history import StateChange, StateHistory
from store.status_pages import Component
from tests.unit.statuspages.factories import make_page

NOW = datetime(2026, 10, 10, 15, 30, tzinfo=UTC)
PAGE = make_page(time_zone="Europe/Berlin", bar_days=30)
TRUNK = Component(
    probe_id=uuid.uuid4(), public_id="t", position=0, name="Trunk", description="", group_name=None
)
STATES = ("healthy", "degraded", "unhealthy", "unknown")

changes = st.lists(
    st.tuples(st.integers(0, 40 * 24 * 60), st.sampled_from(STATES)), max_size=25
).map(
    lambda moves: [
        StateChange(NOW - timedelta(minutes=m), s, [{"state": s, "metric": "mos", "value": 3.0}])
        for m, s in sorted(moves, reverse=True)
    ]
)


def _view(history: StateHistory, now: datetime, memo: BarMemo | None, windows=()) -> PageView:
    return build(
        PAGE, components=[TRUNK], histories={TRUNK.probe_id: history}, current={},
        windows=list(windows), announcements=[], now=now, memo=memo,
    )  # fmt: skip


def _bar(view: PageView) -> tuple[object, ...]:
    component = view.components[0]
    return tuple((d.day, d.state, d.label) for d in component.days), component.uptime_text


@settings(max_examples=60, deadline=None)
@given(before=changes, later=changes, minutes=st.integers(1, 36 * 60))
def test_memoised_bars_equal_fresh_ones(
    before: list[StateChange], later: list[StateChange], minutes: int
) -> None:
    memo = BarMemo()
    first = StateHistory(before="healthy", changes=before)
    assert _bar(_view(first, NOW, memo)) == _bar(_view(first, NOW, None))
    assert _bar(_view(first, NOW, memo)) == _bar(_view(first, NOW, None))  # from the memo
    moved = NOW + timedelta(minutes=minutes)  # the same day or the next ones
    merged = sorted([*before, *later], key=lambda c: c.at)
    second = StateHistory(before="healthy", changes=merged)
    assert _bar(_view(second, moved, memo)) == _bar(_view(second, moved, None))


def test_a_new_maintenance_window_in_the_past_is_not_served_from_the_memo() -> None:
    memo = BarMemo()
    history = StateHistory(
        before="healthy", changes=[StateChange(NOW - timedelta(days=3), "unhealthy", [])]
    )
    outage = _view(history, NOW, memo)
    assert outage.components[0].days[-4].state.value == "unhealthy"
    window = PlannedWindow(
        id=uuid.uuid4(), probe_id=None, title="w",
        starts_at=NOW - timedelta(days=5), ends_at=NOW - timedelta(hours=1),
    )  # fmt: skip
    excused = _view(history, NOW, memo, [window])
    assert _bar(excused) == _bar(_view(history, NOW, None, [window]))
    assert excused.components[0].days[-4].label.startswith("07 Oct 2026: maintenance")


def test_the_memo_forgets_the_least_recently_used() -> None:
    memo = BarMemo(max_components=1)
    history = StateHistory(before="healthy", changes=[])
    _view(history, NOW, memo)
    assert memo.get(TRUNK.probe_id, "no such key") is None
    other = Component(
        probe_id=uuid.uuid4(), public_id="o", position=1, name="O", description="",
        group_name=None,
    )  # fmt: skip
    build(
        PAGE, components=[other], histories={other.probe_id: history}, current={}, windows=[],
        announcements=[], now=NOW, memo=memo,
    )  # fmt: skip
    assert memo._bars is not None and list(memo._bars) == [other.probe_id]


@settings(max_examples=20, deadline=None)
@given(before=changes, minutes=st.integers(1, 36 * 60))
def test_pages_rendered_from_the_memo_equal_fresh_ones(
    before: list[StateChange], minutes: int
) -> None:
    memo, history = BarMemo(), StateHistory(before="healthy", changes=before)
    for now in (NOW, NOW, NOW + timedelta(minutes=minutes)):
        fresh = page_html(_view(history, now, None), mode="page", base="/s/acme")
        assert page_html(_view(history, now, memo), mode="page", base="/s/acme") == fresh
