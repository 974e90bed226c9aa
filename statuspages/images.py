"""Validation of uploaded branding images (logos, header backgrounds).

The type is detected from the content, never from what the client declares.
PNG, JPEG and WebP pass on their magic bytes. SVG is parsed with defusedxml,
checked against an allow-list of elements and a deny-list of attributes and
URLs, refused (never silently stripped) when anything is off, and
re-serialized so that comments, processing instructions and the DOCTYPE are gone.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", _XLINK_NS)

_NOT_AN_IMAGE = "not a PNG, JPEG, WebP or SVG image"
_MAX_DEPTH = 64
_BASIC_ELEMENTS = (
    "svg g defs symbol use title desc metadata style path rect circle ellipse line polyline "
    "polygon text tspan textPath linearGradient radialGradient stop clipPath mask pattern "
    "marker filter mpath"
)
_FILTER_PRIMITIVES = (
    "feBlend feColorMatrix feComponentTransfer feComposite feConvolveMatrix "
    "feDiffuseLighting feDisplacementMap feDistantLight feDropShadow feFlood feFuncA "
    "feFuncB feFuncG feFuncR feGaussianBlur feMerge feMergeNode feMorphology feOffset "
    "fePointLight feSpecularLighting feSpotLight feTile feTurbulence"
)
_ANIMATIONS = frozenset({"animate", "animateMotion", "animateTransform", "set"})
_ALLOWED_ELEMENTS = (
    frozenset(_BASIC_ELEMENTS.split()) | frozenset(_FILTER_PRIMITIVES.split()) | _ANIMATIONS
)
# Checked, after removing whitespace and control characters, in every attribute value
# and in <style> text. A backslash could hide any of them behind a CSS escape.
_FORBIDDEN_TOKENS = ("javascript:", "@import", "expression(", "image-set(", "\\")
_NON_LOCAL_URL = re.compile(r"url\((?!['\"]?#)")


class ImageRejected(ValueError):
    """An upload that is not an acceptable image; the message says why, for humans."""


@dataclass(frozen=True, slots=True)
class Image:
    """A validated image: its detected media type and the bytes to store and serve."""

    media_type: str
    data: bytes


def validate_image(data: bytes, *, max_bytes: int = 512 * 1024) -> Image:
    """Return the image to store, or raise ImageRejected with the reason."""
    if not data:
        raise ImageRejected("image is empty")
    if len(data) > max_bytes:
        raise ImageRejected(
            f"image is {_human_size(len(data))}; the limit is {_human_size(max_bytes)}"
        )
    media_type = _raster_type(data)
    if media_type is not None:
        return Image(media_type, data)
    return _sanitized_svg(data)


def _human_size(n: int) -> str:
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{math.ceil(n * 10 / size) / 10:g} {unit}"
    return f"{n} bytes"


def _raster_type(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _sanitized_svg(data: bytes) -> Image:
    root = _parse_xml(data)
    if root.tag != f"{{{SVG_NS}}}svg":
        raise ImageRejected(f"{_NOT_AN_IMAGE} (the XML root element is {root.tag})")
    _check_element(root, depth=1)
    return Image("image/svg+xml", ET.tostring(root, encoding="utf-8"))


def _parse_xml(data: bytes) -> ET.Element:
    try:
        root: ET.Element = DefusedET.fromstring(
            data, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException:
        raise ImageRejected("SVG declares XML entities or external references") from None
    except (ET.ParseError, LookupError):
        raise ImageRejected(_NOT_AN_IMAGE) from None
    return root


def _check_element(element: ET.Element, *, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ImageRejected(f"SVG nests elements more than {_MAX_DEPTH} levels deep")
    name = _element_name(element.tag)
    for attribute, value in element.attrib.items():
        _check_attribute(attribute, value)
    if name == "style":
        _check_text("".join(element.itertext()))
    if name in _ANIMATIONS:
        _check_animation(element.get("attributeName", ""))
    for child in element:
        _check_element(child, depth=depth + 1)


def _element_name(tag: str) -> str:
    namespace, _, name = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
    if namespace != SVG_NS:
        raise ImageRejected(f"SVG contains an element outside the SVG namespace: {tag}")
    if name not in _ALLOWED_ELEMENTS:
        raise ImageRejected(f"SVG contains a <{name}> element")
    return name


def _check_attribute(attribute: str, value: str) -> None:
    name = attribute.rpartition("}")[2]
    if name.lower().startswith("on"):
        raise ImageRejected(f"SVG contains an event handler attribute ({name})")
    if name == "href" and not value.startswith("#"):
        raise ImageRejected(f"SVG links to {value!r}; only '#id' references are allowed")
    if attribute == _XML_BASE:
        raise ImageRejected("SVG contains an xml:base attribute")
    _check_text(value)


def _check_text(text: str) -> None:
    compact = "".join(ch for ch in text if ch.isprintable() and not ch.isspace()).lower()
    for token in _FORBIDDEN_TOKENS:
        if token in compact:
            raise ImageRejected(f"SVG contains {token!r}")
    if _NON_LOCAL_URL.search(compact):
        raise ImageRejected("SVG contains a url() that is not a '#id' reference")


def _check_animation(target: str) -> None:
    name = target.strip().rpartition(":")[2].lower()
    if name == "href" or name.startswith("on"):
        raise ImageRejected(f"SVG animates the {target} attribute")
