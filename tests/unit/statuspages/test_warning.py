"""The support-site warning: down means a component unhealthy, shown after N minutes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from statuspages.view import PageView, build
from statuspages.warning import document, site_warning
from store.state_history import StateHistory
from tests.unit.statuspages.factories import make_component, make_history, make_page
from thresholds.states import State

M = timedelta(minutes=1)
NOW = datetime(2026, 10, 10, 12, tzinfo=UTC)
URL = "https://status.example.com/s/acme"
Row = tuple[str, StateHistory]


def _view(*rows: Row, **page: Any) -> PageView:
    """A page whose components end in each row's state, with each row's history."""
    components = [make_component(f"C{i}") for i in range(len(rows))]
    return build(
        make_page(bar_days=7, **page),
        components=components,
        histories={c.probe_id: history for c, (_, history) in zip(components, rows, strict=True)},
        current={c.probe_id: state for c, (state, _) in zip(components, rows, strict=True)},
        windows=[],
        announcements=[],
        now=NOW,
    )


def _became(state: str, ago: timedelta) -> Row:
    """A component healthy before the period that became ``state`` ``ago``."""
    return state, make_history("healthy", (NOW - ago, state))


HEALTHY = ("healthy", make_history("healthy"))


@pytest.mark.parametrize(
    ("rows", "after", "down", "show"),
    [
        ([HEALTHY, HEALTHY], 3, False, False),
        ([HEALTHY, _became("unhealthy", 2 * M)], 3, True, False),
        ([HEALTHY, _became("unhealthy", 4 * M)], 3, True, True),
        ([_became("unhealthy", 3 * M)], 3, True, True),
        ([_became("unhealthy", 10 * M)], 30, True, False),
        ([_became("unhealthy", timedelta(seconds=1))], 0, True, True),
        ([_became("degraded", 60 * M), HEALTHY], 3, False, False),
        ([_became("degraded", 60 * M), HEALTHY], 0, False, False),
        ([("unknown", make_history("unknown"))], 0, False, False),
        ([_became("unknown", 60 * M)], 0, False, False),
    ],
)
def test_down_is_unhealthy_and_shown_after_n_minutes(
    rows: list[Row], after: int, down: bool, show: bool
) -> None:
    warning = site_warning(_view(*rows), URL, after)
    assert (warning.down, warning.show) == (down, show)
    assert warning.after_minutes == after


@pytest.mark.parametrize("degraded_is_up", [False, True])
def test_degraded_never_makes_the_page_down(degraded_is_up: bool) -> None:
    view = _view(_became("degraded", 600 * M), degraded_is_up=degraded_is_up)
    warning = site_warning(view, URL, 0)
    assert warning.down is False and warning.show is False
    assert warning.text == "Partial Degradation" and warning.down_since is None


def test_the_outage_began_when_the_first_component_became_unhealthy() -> None:
    view = _view(_became("unhealthy", 2 * M), _became("unhealthy", 5 * M), HEALTHY)
    warning = site_warning(view, URL, 3)
    assert warning.down_since == NOW - 5 * M
    assert warning.show is True
    assert warning.affected == ["C0", "C1"]


def test_a_degraded_spell_before_the_outage_does_not_count() -> None:
    history = make_history("healthy", (NOW - 60 * M, "degraded"), (NOW - 2 * M, "unhealthy"))
    warning = site_warning(_view(("unhealthy", history)), URL, 3)
    assert warning.down_since == NOW - 2 * M
    assert warning.show is False


def test_a_flap_restarts_the_outage() -> None:
    history = make_history(
        "healthy", (NOW - 30 * M, "unhealthy"), (NOW - 20 * M, "healthy"), (NOW - M, "unhealthy")
    )
    warning = site_warning(_view(("unhealthy", history)), URL, 3)
    assert warning.down_since == NOW - M and warning.show is False


def test_an_outage_from_before_the_loaded_history_starts_when_its_bad_stretch_did() -> None:
    began = NOW - timedelta(days=30)
    history = StateHistory(before="unhealthy", changes=[], bad_since=began)
    warning = site_warning(_view(("unhealthy", history)), URL, 3)
    assert warning.down_since == began and warning.show is True


def test_an_outage_of_unknown_start_is_shown() -> None:
    warning = site_warning(_view(("unhealthy", make_history("healthy"))), URL, 1440)
    assert warning.down is True and warning.down_since is None and warning.show is True


def test_document_carries_page_colour_text_and_names_only() -> None:
    view = _view(_became("unhealthy", 4 * M), HEALTHY, name="<b>x</b>", primary_color="#aa0000")
    doc = document(site_warning(view, URL, 3))
    assert doc == {
        "page": {"name": "<b>x</b>", "url": URL, "color": "#aa0000"},
        "state": "unhealthy",
        "text": "Major Issues Detected",
        "down": True,
        "down_since": (NOW - 4 * M).isoformat(),
        "affected": ["C0"],
        "after_minutes": 3,
        "show": True,
        "updated_at": NOW.isoformat(),
    }
    assert re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", json.dumps(doc)) is None  # no uuids at all


def test_all_clear_document() -> None:
    doc = document(site_warning(_view(HEALTHY), URL, 3))
    assert doc["state"] == State.HEALTHY.value
    assert doc["text"] == "All Systems Operational"
    assert (doc["down"], doc["show"], doc["down_since"], doc["affected"]) == (
        False,
        False,
        None,
        [],
    )
