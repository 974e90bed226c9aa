"""Badges: valid SVG, escaped text, boxes sized to the text, colours by state and uptime."""

from __future__ import annotations

import defusedxml.ElementTree as DefusedET
import pytest
from hypothesis import given
from hypothesis import strategies as st

from statuspages.badges import STATE_COLORS, badge, uptime_color
from statuspages.images import validate_image

SVG = "{http://www.w3.org/2000/svg}"


def _width(svg: str) -> int:
    return int(DefusedET.fromstring(svg).get("width"))


def test_badge_is_an_accessible_svg_document() -> None:
    root = DefusedET.fromstring(badge("status", "healthy", "#2e7d32"))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-label") == "status: healthy"
    assert root.findtext(f"{SVG}title") == "status: healthy"
    assert [t.text for t in root.iter(f"{SVG}text")] == ["status", "status", "healthy", "healthy"]


def test_markup_in_label_and_message_is_escaped() -> None:
    svg = badge('<script>alert("x")</script>', "a & b", "#c62828")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = DefusedET.fromstring(svg)
    assert root.findtext(f"{SVG}title") == '<script>alert("x")</script>: a & b'
    assert root.get("aria-label") == '<script>alert("x")</script>: a & b'


def test_badge_passes_the_upload_sanitizer() -> None:
    assert validate_image(badge("uptime", "99.95 %", "#2e7d32").encode()).media_type == (
        "image/svg+xml"
    )


def test_width_grows_with_the_text() -> None:
    widths = [_width(badge("uptime", "9" * n, "#2e7d32")) for n in range(6)]
    assert widths == sorted(set(widths))
    assert _width(badge("WWW", "x", "#2e7d32")) > _width(badge("iii", "x", "#2e7d32"))
    assert _width(badge("状态", "x", "#2e7d32")) > _width(badge("ab", "x", "#2e7d32"))


@pytest.mark.parametrize("color", ["red", "#fff", "#12345g", "#1234567", "#123456\n", ""])
def test_bad_colour_is_rejected(color: str) -> None:
    with pytest.raises(ValueError, match="colour"):
        badge("a", "b", color)


@given(st.text(), st.text())
def test_any_text_gives_well_formed_xml(label: str, message: str) -> None:
    root = DefusedET.fromstring(badge(label, message, "#6b7280"))
    assert root.tag == f"{SVG}svg"


def test_state_colours() -> None:
    assert dict(STATE_COLORS) == {
        "healthy": "#2e7d32",
        "degraded": "#b26a00",
        "unhealthy": "#c62828",
        "unknown": "#6b7280",
    }
    assert STATE_COLORS["healthy"] == "#2e7d32"


@pytest.mark.parametrize(
    ("share", "color"),
    [
        (1.0, "#2e7d32"),
        (0.999, "#2e7d32"),
        (0.9989, "#4d7c0f"),
        (0.99, "#4d7c0f"),
        (0.98, "#b26a00"),
        (0.95, "#b26a00"),
        (0.9499, "#c62828"),
        (0.0, "#c62828"),
        (None, "#6b7280"),
    ],
)
def test_uptime_colour_thresholds(share: float | None, color: str) -> None:
    assert uptime_color(share) == color
