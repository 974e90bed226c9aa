"""The public page's view model: banner, groups, bars, maintenance, announcements."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statuspages.view import BANNERS, PageView, build, history_start
from store.page_data import PlannedWindow
from store.state_history import StateChange, StateHistory
from store.status_pages import Announcement, Component, Page
from tests.unit.statuspages.factories import make_component, make_history, make_page, make_window
from thresholds.states import State

H = timedelta(hours=1)
D = timedelta(days=1)
NOW = datetime(2026, 10, 10, 12, tzinfo=UTC)
START = datetime(2026, 10, 4, tzinfo=UTC)  # 7 bar days: 4..10 October
PAGE_ID = uuid.uuid4()


def _page(**fields: Any) -> Page:
    return make_page(**{"id": PAGE_ID, "bar_days": 7, **fields})


def _component(name: str, group: str | None = None) -> Component:
    return make_component(name, group=group, description=f"{name} description")


def _history(before: str = "healthy", *changes: tuple[datetime, str]) -> StateHistory:
    return make_history(before, *changes)


def _window(
    start: datetime, end: datetime, probe: uuid.UUID | None = None, title: str = "Upgrade"
) -> PlannedWindow:
    return make_window(start, end, probe, title)


def _announcement(title: str, starts_at: datetime, ends_at: datetime | None = None) -> Announcement:
    return Announcement(
        id=uuid.uuid4(),
        page_id=PAGE_ID,
        public_id=f"a-{title}",
        title=title,
        body="",
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=starts_at,
    )


def _build(
    components: Sequence[Component],
    *,
    page: Page | None = None,
    histories: Mapping[uuid.UUID, StateHistory] | None = None,
    current: Mapping[uuid.UUID, str] | None = None,
    windows: Sequence[PlannedWindow] = (),
    announcements: Sequence[Announcement] = (),
    now: datetime = NOW,
) -> PageView:
    histories = histories or {}
    return build(
        page or _page(),
        components=components,
        histories={c.probe_id: histories.get(c.probe_id, _history()) for c in components},
        current=current if current is not None else {c.probe_id: "healthy" for c in components},
        windows=windows,
        announcements=announcements,
        now=now,
    )


# --- banner --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("states", "banner"),
    [
        ([], "Status Pending"),
        (["unknown"], "Status Pending"),
        (["unknown", "unknown", None], "Status Pending"),
        (["healthy"], "All Systems Operational"),
        (["healthy", "unknown"], "All Systems Operational"),
        (["healthy", None], "All Systems Operational"),
        (["healthy", "degraded"], "Partial Degradation"),
        (["degraded", "unknown"], "Partial Degradation"),
        (["degraded", "degraded"], "Partial Degradation"),
        (["healthy", "unhealthy"], "Major Issues Detected"),
        (["unhealthy", "degraded", "unknown", "healthy"], "Major Issues Detected"),
    ],
)
def test_banner_is_the_worst_current_state(states: list[str | None], banner: str) -> None:
    """None: no current state stored for the component (it counts as unknown)."""
    components = [_component(f"C{n}") for n in range(len(states))]
    current = {c.probe_id: s for c, s in zip(components, states, strict=True) if s is not None}
    view = _build(components, current=current)
    assert view.banner == banner
    assert BANNERS[view.state] == banner


@pytest.mark.parametrize(
    ("state", "label"),
    [
        ("healthy", "Operational"),
        ("degraded", "Degraded"),
        ("unhealthy", "Major outage"),
        ("unknown", "No data"),
    ],
)
def test_component_state_and_label(state: str, label: str) -> None:
    trunk = _component("Trunk")
    [view] = _build([trunk], current={trunk.probe_id: state}).components
    assert view.state is State(state) and view.state_label == label
    assert not view.under_maintenance


def test_component_without_a_current_state_is_unknown() -> None:
    [view] = _build([_component("Trunk")], current={}).components
    assert view.state is State.UNKNOWN and view.state_label == "No data"


def test_component_fields_are_carried_over() -> None:
    trunk = _component("Trunk", group="Voice")
    [view] = _build([trunk]).components
    assert (view.public_id, view.name, view.description, view.group) == (
        "pub-trunk",
        "Trunk",
        "Trunk description",
        "Voice",
    )


# --- groups --------------------------------------------------------------------------------


def test_groups_in_order_of_first_appearance_with_interleaved_members_gathered() -> None:
    components = [
        _component("A", "Voice"),
        _component("B"),
        _component("C", "Data"),
        _component("D", "Voice"),
        _component("E"),
        _component("F", "Data"),
    ]
    view = _build(components)
    assert [(g.name, [c.name for c in g.components]) for g in view.groups] == [
        ("Voice", ["A", "D"]),
        (None, ["B", "E"]),
        ("Data", ["C", "F"]),
    ]
    assert [c.name for c in view.components] == ["A", "B", "C", "D", "E", "F"]


def test_group_state_is_the_worst_member_state() -> None:
    a, b, c = _component("A", "Voice"), _component("B", "Voice"), _component("C", "Data")
    current = {a.probe_id: "healthy", b.probe_id: "degraded", c.probe_id: "unknown"}
    view = _build([a, b, c], current=current)
    assert [(g.name, g.state) for g in view.groups] == [
        ("Voice", State.DEGRADED),
        ("Data", State.UNKNOWN),
    ]


@given(st.lists(st.sampled_from([None, "G1", "G2", "G3"]), max_size=12))
@settings(max_examples=50, deadline=None)
def test_grouping_keeps_every_component_once_in_page_order(groups: list[str | None]) -> None:
    components = [_component(f"C{n}", g) for n, g in enumerate(groups)]
    view = _build(components)
    names = [g.name for g in view.groups]
    assert names == list(dict.fromkeys(groups))
    for group in view.groups:
        assert [c.name for c in group.components] == [
            f"C{n}" for n, g in enumerate(groups) if g == group.name
        ]


# --- bars ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bar_days", [7, 30, 90])
def test_bar_has_one_segment_per_bar_day_ending_today(bar_days: int) -> None:
    [view] = _build([_component("Trunk")], page=_page(bar_days=bar_days)).components
    assert len(view.days) == bar_days
    assert view.days[-1].day == date(2026, 10, 10)
    assert view.days[0].day == date(2026, 10, 10) - (bar_days - 1) * D
    assert [d.day for d in view.days] == sorted({d.day for d in view.days})


def test_bar_days_follow_the_page_time_zone() -> None:
    # 23:30 UTC on 10 October is already 11 October in Berlin.
    page = _page(time_zone="Europe/Berlin")
    late = datetime(2026, 10, 10, 23, 30, tzinfo=UTC)
    [view] = _build([_component("Trunk")], page=page, now=late).components
    assert view.days[-1].day == date(2026, 10, 11)
    assert history_start(page, late) == datetime(2026, 10, 4, 22, tzinfo=UTC)


def test_a_day_without_data_is_unknown_never_green() -> None:
    trunk = _component("Trunk")
    history = _history("healthy", (START + 2 * D, "unknown"), (START + 3 * D, "healthy"))
    [view] = _build([trunk], histories={trunk.probe_id: history}).components
    states = [d.state for d in view.days]
    assert states == [State.HEALTHY] * 2 + [State.UNKNOWN] + [State.HEALTHY] * 4
    assert view.days[2].label == "06 Oct 2026: no data"
    assert view.days[1].label == "05 Oct 2026: 100.00 % uptime"


def test_never_reported_component_is_grey_everywhere_with_no_uptime() -> None:
    trunk = _component("Trunk")
    [view] = _build([trunk], histories={trunk.probe_id: _history("unknown")}).components
    assert {d.state for d in view.days} == {State.UNKNOWN}
    assert all(d.label.endswith(": no data") for d in view.days)
    assert view.uptime is None and view.uptime_text == "no data"


def test_day_fully_in_maintenance_is_labelled_maintenance_whatever_the_state() -> None:
    trunk = _component("Trunk")
    history = _history("healthy", (START + 3 * D, "unhealthy"), (START + 4 * D, "healthy"))
    window = _window(START + 3 * D, START + 4 * D, trunk.probe_id)
    view = _build([trunk], histories={trunk.probe_id: history}, windows=[window])
    [component] = view.components
    assert component.days[3].state is State.UNKNOWN
    assert component.days[3].label.startswith("07 Oct 2026: maintenance")
    assert component.uptime_text == "100.00 %"


def test_part_of_a_day_in_maintenance_leaves_the_rest_counted() -> None:
    trunk = _component("Trunk")
    history = _history("healthy", (START + 3 * D, "unhealthy"), (START + 3 * D + 12 * H, "healthy"))
    window = _window(START + 3 * D, START + 3 * D + 6 * H, trunk.probe_id)
    [component] = _build([trunk], histories={trunk.probe_id: history}, windows=[window]).components
    day = component.days[3]
    assert day.state is State.UNHEALTHY
    assert day.label.startswith("07 Oct 2026: 66.66 % uptime")  # 12 of 18 counted hours


@pytest.mark.parametrize(("degraded_is_up", "text"), [(False, "92.30 %"), (True, "100.00 %")])
def test_degraded_is_up_changes_the_uptime(degraded_is_up: bool, text: str) -> None:
    # Monitored: 4 Oct 00:00 to 10 Oct 12:00 = 156 h, 12 h of them degraded.
    trunk = _component("Trunk")
    history = _history("healthy", (START + 2 * D, "degraded"), (START + 2 * D + 12 * H, "healthy"))
    page = _page(degraded_is_up=degraded_is_up)
    [component] = _build([trunk], page=page, histories={trunk.probe_id: history}).components
    assert component.uptime_text == text
    assert component.days[2].state is State.DEGRADED  # the bar shows it either way
    assert component.days[2].label.startswith(
        "06 Oct 2026: " + ("100.00 %" if degraded_is_up else "50.00 %")
    )


def test_day_tooltip_lists_incidents_overlapping_that_day() -> None:
    trunk = _component("Trunk")
    history = StateHistory(
        before="healthy",
        changes=[
            StateChange(
                START + D + 23 * H,
                "unhealthy",
                [{"state": "unhealthy", "metric": "mos", "value": 2.9}],
            ),
            StateChange(START + 2 * D + H, "healthy", []),
            StateChange(
                START + 2 * D + 5 * H,
                "degraded",
                [{"state": "degraded", "metric": "jitter_ms", "value": 60}],
            ),
            StateChange(START + 3 * D, "healthy", []),  # ends exactly at midnight
            StateChange(
                START + 6 * D + H, "unhealthy", [{"state": "unhealthy", "rule": "outcome"}]
            ),
        ],
    )
    [component] = _build([trunk], histories={trunk.probe_id: history}).components
    labels = [d.label for d in component.days]
    mos, jitter = "MOS fell to 2.9 on Trunk", "Jitter rose to 60 ms on Trunk"
    calls = "Test calls failed on Trunk"
    assert "incident" not in labels[0]
    assert labels[1].endswith(f"; 1 incident: {mos}")
    assert labels[2].endswith(f"; 2 incidents: {mos}; {jitter}")
    assert "incident" not in labels[3]  # the jitter incident ended at its start
    assert "incident" not in labels[4] and "incident" not in labels[5]
    assert labels[6].endswith(f"; 1 incident: {calls}")  # still open today
    assert len(component.incidents) == 3


def test_page_incidents_are_newest_first_across_components() -> None:
    a, b = _component("A"), _component("B")
    histories = {
        a.probe_id: _history("healthy", (START + H, "degraded"), (START + 2 * H, "healthy")),
        b.probe_id: _history("healthy", (START + 3 * H, "unhealthy"), (START + 5 * D, "degraded")),
    }
    view = _build([a, b], histories=histories)
    assert [(i.component, i.started) for i in view.incidents] == [
        ("B", START + 3 * H),
        ("A", START + H),
    ]


def test_incident_carried_in_from_before_the_bar_starts_at_the_bar() -> None:
    trunk = _component("Trunk")
    history = _history("unhealthy", (START + 2 * H, "healthy"))
    [component] = _build([trunk], histories={trunk.probe_id: history}).components
    [incident] = component.incidents
    assert incident.started == history_start(_page(), NOW) == START
    assert incident.cause == "Trunk was unavailable"


# --- maintenance ---------------------------------------------------------------------------


def test_under_maintenance_while_a_window_is_active() -> None:
    a, b = _component("A"), _component("B")
    active = _window(NOW - H, NOW + H, a.probe_id)
    view = _build(
        [a, b], windows=[active], current={a.probe_id: "unhealthy", b.probe_id: "healthy"}
    )
    va, vb = view.components
    assert va.under_maintenance and va.state_label == "Under maintenance"
    assert va.state is State.UNHEALTHY  # the state itself is kept
    assert not vb.under_maintenance and vb.state_label == "Operational"
    [shown] = view.maintenance
    assert shown.active and shown.components == ["A"] and shown.title == "Upgrade"


@pytest.mark.parametrize(
    ("start", "end", "active"),
    [
        (NOW, NOW + H, True),  # starts now: [start, end)
        (NOW - H, NOW + timedelta(seconds=1), True),
        (NOW + timedelta(seconds=1), NOW + H, False),
        (NOW - H, NOW, False),  # ended now
    ],
)
def test_window_bounds_are_half_open(start: datetime, end: datetime, active: bool) -> None:
    trunk = _component("Trunk")
    view = _build([trunk], windows=[_window(start, end, trunk.probe_id)])
    assert view.components[0].under_maintenance is active
    assert [m.active for m in view.maintenance] == ([] if end <= NOW else [active])


def test_page_wide_window_covers_every_component() -> None:
    a, b = _component("A"), _component("B")
    view = _build([a, b], windows=[_window(NOW - H, NOW + H, None, "Core upgrade")])
    assert all(c.under_maintenance for c in view.components)
    [shown] = view.maintenance
    assert shown.components == [] and shown.active


def test_maintenance_list_hides_ended_windows_and_other_probes() -> None:
    trunk = _component("Trunk")
    elsewhere = uuid.uuid4()
    windows = [
        _window(NOW - 3 * H, NOW - H, trunk.probe_id, "ended"),
        _window(NOW + H, NOW + 2 * H, trunk.probe_id, "planned"),
        _window(NOW - H, NOW + H, elsewhere, "other probe active"),
        _window(NOW + H, NOW + 3 * H, elsewhere, "other probe planned"),
        _window(NOW + 2 * H, NOW + 4 * H, None, "everything planned"),
    ]
    view = _build([trunk], windows=windows)
    assert [(m.title, m.active, m.components) for m in view.maintenance] == [
        ("planned", False, ["Trunk"]),
        ("everything planned", False, []),
    ]
    assert not view.components[0].under_maintenance
    assert all(len(m.id) == 12 for m in view.maintenance)


def test_other_probes_windows_do_not_touch_the_bar() -> None:
    trunk = _component("Trunk")
    history = _history("healthy", (START + 3 * D, "unhealthy"), (START + 4 * D, "healthy"))
    window = _window(START + 3 * D, START + 4 * D, uuid.uuid4())
    [component] = _build([trunk], histories={trunk.probe_id: history}, windows=[window]).components
    assert component.days[3].state is State.UNHEALTHY


# --- announcements -------------------------------------------------------------------------


def test_ended_announcements_are_hidden() -> None:
    notices = [
        _announcement("open-ended", NOW - D),
        _announcement("running", NOW - D, NOW + H),
        _announcement("ended", NOW - D, NOW - H),
        _announcement("ends-now", NOW - D, NOW),
    ]
    view = _build([_component("Trunk")], announcements=notices)
    assert [a.title for a in view.announcements] == ["open-ended", "running"]


def test_announcement_is_not_shown_before_it_starts() -> None:
    notices = [_announcement("tomorrow", NOW + D, NOW + 2 * D), _announcement("later", NOW + H)]
    view = _build([_component("Trunk")], announcements=notices)
    assert view.announcements == []


# --- whole view ----------------------------------------------------------------------------


def test_view_names_no_probe_ids() -> None:
    trunk = _component("Trunk")
    view = _build([trunk], windows=[_window(NOW + H, NOW + 2 * H, trunk.probe_id)])
    text = repr(replace(view, page=_page(id=uuid.UUID(int=0), project_id=uuid.UUID(int=0))))
    assert str(trunk.probe_id) not in text and trunk.probe_id.hex not in text
