"""Branding images: detected by content; hostile SVG refused with a reason; benign SVG cleaned."""

from __future__ import annotations

import contextlib
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as DefusedET
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from statuspages.images import Image, ImageRejected, validate_image

SVG = "http://www.w3.org/2000/svg"
OPEN = f'<svg xmlns="{SVG}" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 40">'
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 "


def _svg(body: str) -> bytes:
    return f"{OPEN}{body}</svg>".encode()


HOSTILE = [
    ("script", _svg("<script>alert(1)</script>"), "<script> element"),
    ("onload", f'<svg xmlns="{SVG}" onload="alert(1)"/>'.encode(), "event handler attribute"),
    ("ONLOAD", _svg('<rect ONLOAD="alert(1)"/>'), "event handler attribute (ONLOAD)"),
    ("xlink js", _svg('<use xlink:href="javascript:alert(1)"/>'), "only '#id' references"),
    ("a http", _svg('<a href="https://evil.example/"><text>x</text></a>'), "<a> element"),
    ("use http", _svg('<use href="https://evil.example/x.svg#a"/>'), "links to 'https://evil"),
    (
        "foreignObject",
        _svg('<foreignObject><body xmlns="http://www.w3.org/1999/xhtml"/></foreignObject>'),
        "<foreignObject> element",
    ),
    ("iframe", _svg("<iframe/>"), "<iframe> element"),
    (
        "xxe",
        b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + _svg("<text>&x;</text>"),
        "XML entities",
    ),
    (
        "billion laughs",
        b'<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>' + _svg("<text>&c;</text>"),
        "XML entities",
    ),
    ("style url", _svg('<rect style="fill: url(http://evil.example/p.svg#p)"/>'), "url()"),
    ("fill url", _svg("<rect fill=\"URL( 'https://evil.example/#p')\"/>"), "url()"),
    ("@import", _svg("<style>@import 'https://evil.example/x.css';</style>"), "'@import'"),
    ("css escape", _svg("<style>rect { fill: \\75 rl(http://x/) }</style>"), "'\\\\'"),
    ("expression", _svg('<rect style="width: expression(alert(1))"/>'), "'expression('"),
    ("image data", _svg('<image href="data:image/png;base64,AAAA"/>'), "<image> element"),
    ("feImage", _svg('<filter id="f"><feImage href="#a"/></filter>'), "<feImage> element"),
    ("set onclick", _svg('<set attributeName="onclick" to="alert(1)"/>'), "animates the onclick"),
    ("animate href", _svg('<animate attributeName="xlink:href" to="#b"/>'), "animates the xlink"),
    (
        "js with controls",
        _svg('<rect class=" j\tava\nscript:alert(1)"/>'),
        "'javascript:'",
    ),
    ("foreign ns", _svg('<x:e xmlns:x="urn:x"/>'), "outside the SVG namespace"),
    ("xml:base", _svg('<g xml:base="https://evil.example/"/>'), "xml:base"),
    ("deep", _svg("<g>" * 70 + "</g>" * 70), "levels deep"),
    ("no namespace", b"<svg><rect/></svg>", "the XML root element is svg"),
    ("non-SVG root", b'<feed xmlns="http://www.w3.org/2005/Atom"/>', "root element is {http"),
    ("html", b"<!DOCTYPE html><html><body><p>hi</body></html>", "not a PNG, JPEG, WebP or SVG"),
    ("gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "not a PNG, JPEG, WebP or SVG image"),
    ("bogus encoding", b'<?xml version="1.0" encoding="bogus"?><svg/>', "not a PNG"),
    ("empty", b"", "image is empty"),
    ("oversize", PNG + bytes(3 << 20), "image is 3.1 MiB; the limit is 512 KiB"),
]


@pytest.mark.parametrize(("data", "reason"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_or_unknown_input_is_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected) as info:
        validate_image(data)
    assert reason in str(info.value)


def test_size_limit_is_inclusive_and_configurable() -> None:
    assert validate_image(PNG + bytes(100 - len(PNG)), max_bytes=100).media_type == "image/png"
    with pytest.raises(ImageRejected, match="image is 101 bytes; the limit is 100 bytes"):
        validate_image(PNG + bytes(101 - len(PNG)), max_bytes=100)


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")],
    ids=["png", "jpeg", "webp"],
)
def test_raster_types_are_detected_by_magic_bytes_and_kept_verbatim(
    data: bytes, media_type: str
) -> None:
    assert validate_image(data) == Image(media_type, data)


LOGO = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Generator: some editor -->
<?xml-stylesheet href="evil.css"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
{OPEN}
  <title>Acme Telecom</title>
  <style>.brand {{ font: bold 14px sans-serif; fill: url(#grad); }}</style>
  <defs>
    <linearGradient id="grad" x1="0" x2="1">
      <stop offset="0" stop-color="#0050b3"/><stop offset="1" stop-color="#00a3e0"/>
    </linearGradient>
    <path id="a" d="M0 0 L10 0 L5 8 Z"/>
  </defs>
  <circle cx="20" cy="20" r="18" fill="url(#grad)" stroke="#003a80"/>
  <use href="#a" x="15" y="16"/><use xlink:href="#a" x="15" y="4"/>
  <text class="brand" x="44" y="26">Acme <tspan font-weight="normal">Telecom</tspan></text>
</svg>""".encode()

FILTERED = _svg(
    '<filter id="s"><feGaussianBlur stdDeviation="2"/><feOffset dx="1"/></filter>'
    '<rect width="10" height="10" filter="url(#s)">'
    '<animate attributeName="opacity" values="0;1" dur="1s"/></rect>'
)


@pytest.mark.parametrize("data", [LOGO, FILTERED], ids=["logo", "filter+animate"])
def test_benign_svg_is_accepted_and_reserialized_cleanly(data: bytes) -> None:
    image = validate_image(data)
    assert image.media_type == "image/svg+xml"
    assert image.data.startswith(f'<svg xmlns="{SVG}"'.encode())
    assert b"<!--" not in image.data and b"<?" not in image.data and b"DOCTYPE" not in image.data
    root = DefusedET.fromstring(image.data)
    assert not [a for e in root.iter() for a in e.attrib if a.rpartition("}")[2].startswith("on")]


def test_logo_keeps_its_content() -> None:
    root = DefusedET.fromstring(validate_image(LOGO).data)
    hrefs = [v for e in root.iter() for k, v in e.attrib.items() if k.endswith("href")]
    assert hrefs == ["#a", "#a"]
    assert "".join(root.find(f"{{{SVG}}}text").itertext()) == "Acme Telecom"


_ELEMENTS = ["g", "rect", "circle", "text", "tspan", "use", "defs", "style", "title"]
_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=10)
_ATTRIBUTES = st.sampled_from(["id", "fill", "style", "class", "x", "xml:space"])
_VALUES = st.sampled_from(["url(#g)", "red", "1", " a\tb\n", "&<>'\""]) | _TEXT
_HREF = st.tuples(st.sampled_from(["href", "xlink:href"]), _TEXT.map(lambda t: "#" + t))


@st.composite
def _element(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(st.sampled_from(_ELEMENTS))
    attrs = draw(st.dictionaries(_ATTRIBUTES, _VALUES, max_size=3))
    attrs.update(draw(st.lists(_HREF, max_size=1)))
    rendered = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    children = draw(st.lists(_element(depth + 1), max_size=3 if depth < 3 else 0))
    text = escape(draw(_TEXT))
    return f"<{name}{rendered}>{text}{''.join(children)}</{name}>"


@given(st.lists(_element(), max_size=4))
def test_accepted_svg_revalidates_to_itself(children: list[str]) -> None:
    try:
        first = validate_image(_svg("".join(children)))
    except ImageRejected:
        reject()
    assert validate_image(first.data) == first


@given(st.binary(max_size=200))
def test_arbitrary_bytes_are_accepted_or_rejected_never_crash(data: bytes) -> None:
    with contextlib.suppress(ImageRejected):
        validate_image(data)
