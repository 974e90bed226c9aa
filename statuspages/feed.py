"""Atom 1.0 (RFC 4287) and RSS 2.0 feeds of a status page's incidents.

Built with ElementTree, which escapes text and attribute values. Characters that
XML 1.0 cannot carry at all (most C0 controls, lone surrogates) are dropped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Literal

from statuspages.incidents import Incident
from statuspages.view import PageView

ATOM_NS = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, kw_only=True, slots=True)
class FeedEntry:
    """One incident; ``id`` is a permanent ``tag:`` URI or URL, ``link`` its public page."""

    id: str
    title: str
    summary: str
    published: datetime
    updated: datetime
    link: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Feed:
    """What a feed says, whichever format carries it; ``feed_id`` a permanent URI."""

    title: str
    feed_id: str
    self_link: str
    page_link: str
    updated: datetime
    entries: Sequence[FeedEntry]


def page_feed(view: PageView, url: str, kind: Literal["atom", "rss"]) -> bytes:
    """The page's latest 50 incidents as an Atom or RSS document; ``url``: the page's
    absolute address, which entry ids and links start with."""
    writer = atom if kind == "atom" else rss
    return writer(
        Feed(
            title=f"{view.page.name} incidents",
            feed_id=url,
            self_link=f"{url}/history.{kind}",
            page_link=url,
            updated=view.now,
            entries=[_entry(incident, url) for incident in view.incidents[:50]],
        )
    )


def _entry(incident: Incident, url: str) -> FeedEntry:
    started, ended = incident.started, incident.ended
    link = f"{url}/components/{incident.component_id}"
    return FeedEntry(
        id=f"{link}#{int(started.timestamp())}",
        title=("Resolved: " if ended else "") + incident.cause,
        summary=f"{incident.cause}. Started {started:%Y-%m-%d %H:%M} UTC"
        + (f", resolved {ended:%Y-%m-%d %H:%M} UTC." if ended else ", ongoing."),
        published=started,
        updated=ended or started,
        link=link,
    )


def atom(content: Feed) -> bytes:
    """An Atom feed document, UTF-8 with an XML declaration; the page is the feed's author."""
    feed = ET.Element("feed", xmlns=ATOM_NS)
    _add(feed, "id", content.feed_id)
    _add(feed, "title", content.title)
    _add(feed, "updated", _rfc3339(content.updated))
    _add(feed, "link", rel="self", type="application/atom+xml", href=content.self_link)
    _add(feed, "link", rel="alternate", type="text/html", href=content.page_link)
    _add(_add(feed, "author"), "name", content.title)
    for entry in content.entries:
        _atom_entry(feed, entry)
    return _document(feed)


def rss(content: Feed) -> bytes:
    """The same feed as RSS 2.0; ``feed_id`` is unused, an RSS channel has no identifier."""
    root = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = _add(root, "channel")
    _add(channel, "title", content.title)
    _add(channel, "link", content.page_link)
    _add(channel, "description", content.title)
    _add(channel, "lastBuildDate", _rfc822(content.updated))
    _add(channel, "atom:link", rel="self", type="application/rss+xml", href=content.self_link)
    for entry in content.entries:
        _rss_item(channel, entry)
    return _document(root)


def _atom_entry(feed: ET.Element, entry: FeedEntry) -> None:
    element = _add(feed, "entry")
    _add(element, "id", entry.id)
    _add(element, "title", entry.title)
    _add(element, "published", _rfc3339(entry.published))
    _add(element, "updated", _rfc3339(entry.updated))
    _add(element, "link", rel="alternate", type="text/html", href=entry.link)
    _add(element, "summary", entry.summary, type="text")


def _rss_item(channel: ET.Element, entry: FeedEntry) -> None:
    item = _add(channel, "item")
    _add(item, "title", entry.title)
    _add(item, "link", entry.link)
    _add(item, "description", entry.summary)
    _add(item, "guid", entry.id, isPermaLink="false")
    _add(item, "pubDate", _rfc822(entry.published))


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _NOT_XML.sub("", v) for k, v in attributes.items()})
    element.text = None if text is None else _NOT_XML.sub("", text)
    return element


def _document(root: ET.Element) -> bytes:
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _utc(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"feed timestamps must be timezone-aware, not naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _rfc3339(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def _rfc822(moment: datetime) -> str:
    return format_datetime(_utc(moment), usegmt=True)
