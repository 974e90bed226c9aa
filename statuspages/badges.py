"""Shields.io-style flat SVG badges ("label | message") for status and uptime."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from jinja2 import Environment, StrictUndefined

from statuspages.view import STATE_LABELS, ComponentView, PageView
from thresholds.states import State

_GREEN, _YELLOWGREEN, _AMBER, _RED, _GREY = "#2e7d32", "#4d7c0f", "#b26a00", "#c62828", "#6b7280"

STATE_COLORS: Mapping[str, str] = MappingProxyType(
    {
        State.HEALTHY: _GREEN,
        State.DEGRADED: _AMBER,
        State.UNHEALTHY: _RED,
        State.UNKNOWN: _GREY,
    }
)

# Advance widths in px of Verdana at 11px, from the font's metrics, rounded and grouped.
# A table and not font metrics at run time: the server has no guarantee of having Verdana
# (or any font) installed, and the reader's browser may substitute DejaVu Sans anyway. The
# estimate only sizes the boxes; textLength then fits the rendered text to them exactly.
_WIDTHS = {
    3.0: "il'",
    3.8: "fj ",
    4.0: ",.",
    4.3: "!t",
    4.7: "rI",
    5.0: '"()-/:;[\\]|J',
    5.7: "csz",
    6.0: "?",
    6.2: "FL",
    6.4: "kvxy",
    6.5: "e",
    6.6: "aoP",
    6.75: "bdgpqTY",
    6.95: "hnuE",
    7.0: "0123456789$*_`{}",
    7.55: "ABSVXZ",
    7.65: "CKR",
    8.0: "&U",
    8.25: "HN",
    8.5: "DG",
    8.65: "OQ",
    8.8: "w",
    9.0: "#+<=>^~",
    9.3: "M",
    10.6: "m",
    10.9: "W",
    11.0: "@",
    11.85: "%",
}
_CHAR_WIDTH = {char: width for width, chars in _WIDTHS.items() for char in chars}
_DEFAULT_WIDTH, _WIDE_WIDTH = 7.0, 11.0
_PADDING = 5
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")

_TEMPLATE = Environment(
    autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
).from_string(
    """\
<svg xmlns="http://www.w3.org/2000/svg" width="{{ width }}" height="20" role="img" \
aria-label="{{ title }}">
<title>{{ title }}</title>
<linearGradient id="s" x2="0" y2="100%">
<stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/>
</linearGradient>
<clipPath id="r"><rect width="{{ width }}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)">
<rect width="{{ left.box }}" height="20" fill="#555"/>
<rect x="{{ left.box }}" width="{{ right.box }}" height="20" fill="{{ color }}"/>
<rect width="{{ width }}" height="20" fill="url(#s)"/>
</g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" \
text-rendering="geometricPrecision" font-size="11">
{% for part in (left, right) %}
<text aria-hidden="true" x="{{ part.x }}" y="15" fill="#010101" fill-opacity=".3" \
textLength="{{ part.text_length }}">{{ part.text }}</text>
<text x="{{ part.x }}" y="14" textLength="{{ part.text_length }}">{{ part.text }}</text>
{% endfor %}
</g>
</svg>
"""
)


@dataclass(frozen=True, slots=True)
class _Part:
    text: str
    x: float
    box: int
    text_length: float


def badge(label: str, message: str, color: str) -> str:
    """A complete SVG document; ``color`` (``#rrggbb``) fills the message half."""
    if not _COLOR.fullmatch(color):
        raise ValueError(f"badge colour must look like #1a2b3c, not {color!r}")
    left = _part(label, offset=0)
    right = _part(message, offset=left.box)
    title = f"{left.text}: {right.text}"
    width = left.box + right.box
    return _TEMPLATE.render(title=title, left=left, right=right, color=color, width=width)


def view_badge(view: PageView, what: str, component: ComponentView | None) -> str:
    """The page's (or one component's) ``status`` or ``uptime`` badge; a page's uptime is
    its lowest component's."""
    label = component.name if component else view.page.name
    if what == "status":
        state = component.state if component else view.state
        message = STATE_LABELS[state] if component else view.banner
        return badge(label, message, STATE_COLORS[state.value])
    share = component.uptime if component else _lowest_uptime(view)
    text = "no data" if share is None else f"{share * 100:.2f}%"
    return badge(f"{label} uptime", text, uptime_color(share))


def _lowest_uptime(view: PageView) -> float | None:
    shares = [c.uptime for c in view.components if c.uptime is not None]
    return min(shares) if shares else None


def uptime_color(share: float | None) -> str:
    """Colour for an uptime share in [0, 1]; grey when there is no data."""
    if share is None:
        return _GREY
    if share >= 0.999:
        return _GREEN
    if share >= 0.99:
        return _YELLOWGREEN
    return _AMBER if share >= 0.95 else _RED


def _part(text: str, *, offset: int) -> _Part:
    text = "".join(char for char in text if char.isprintable())
    length = round(sum(map(_char_width, text)), 1)
    box = math.ceil(length) + 2 * _PADDING
    return _Part(text=text, x=offset + box / 2, box=box, text_length=length)


def _char_width(char: str) -> float:
    if char in _CHAR_WIDTH:
        return _CHAR_WIDTH[char]
    return _WIDE_WIDTH if unicodedata.east_asian_width(char) in {"W", "F"} else _DEFAULT_WIDTH
