"""Incident feeds: well-formed Atom and RSS, entries in order, text escaped, aware times only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import defusedxml.ElementTree as DefusedET
import pytest
from hypothesis import given
from hypothesis import strategies as st

from statuspages.feed import Feed, FeedEntry, atom, rss

A = "{http://www.w3.org/2005/Atom}"
T0 = datetime(2026, 10, 1, 12, 30, 15, 250_000, tzinfo=UTC)
PAGE = "https://status.example.com/acme"
XSS = "<script>alert(1)</script>"
Writer = Callable[[Feed], bytes]


def _entry(n: int, title: str = "SIP trunk degraded") -> FeedEntry:
    return FeedEntry(
        id=f"tag:status.example.com,2026:incident/{n}",
        title=title,
        summary=f"Calls to carrier {n} lost audio & were retried.",
        published=T0 + timedelta(hours=n),
        updated=T0 + timedelta(hours=n, minutes=5),
        link=f"{PAGE}/incidents/{n}?a=1&b=2",
    )


def _content(entries: Sequence[FeedEntry], title: str = "Acme status") -> Feed:
    return Feed(
        title=title,
        feed_id="tag:status.example.com,2026:page/acme",
        self_link=f"{PAGE}/feed",
        page_link=PAGE,
        updated=T0,
        entries=entries,
    )


def _build(feed: Writer, entries: Sequence[FeedEntry], title: str = "Acme status") -> bytes:
    return feed(_content(entries, title))


def test_atom_feed_has_the_required_elements_and_entries_in_order() -> None:
    data = _build(atom, [_entry(2), _entry(1)])
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = DefusedET.fromstring(data)
    assert root.tag == f"{A}feed"
    assert root.findtext(f"{A}id") == "tag:status.example.com,2026:page/acme"
    assert root.findtext(f"{A}updated") == "2026-10-01T12:30:15Z"
    assert root.findtext(f"{A}author/{A}name") == "Acme status"
    links = {link.get("rel"): link.get("href") for link in root.iter(f"{A}link")}
    assert links["self"] == f"{PAGE}/feed"
    entries = root.findall(f"{A}entry")
    assert [e.findtext(f"{A}id") for e in entries] == [_entry(2).id, _entry(1).id]
    first = entries[0]
    assert first.findtext(f"{A}published") == "2026-10-01T14:30:15Z"
    assert first.findtext(f"{A}updated") == "2026-10-01T14:35:15Z"
    assert first.find(f"{A}link").get("href") == f"{PAGE}/incidents/2?a=1&b=2"
    assert first.findtext(f"{A}summary") == "Calls to carrier 2 lost audio & were retried."


def test_atom_timestamps_are_converted_to_utc() -> None:
    moved = replace(_entry(0), published=T0.astimezone(timezone(timedelta(hours=2))))
    root = DefusedET.fromstring(_build(atom, [moved]))
    assert root.findtext(f"{A}entry/{A}published") == "2026-10-01T12:30:15Z"


def test_rss_feed_has_the_required_elements_and_items_in_order() -> None:
    root = DefusedET.fromstring(_build(rss, [_entry(2), _entry(1)]))
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title") == "Acme status"
    assert channel.findtext("link") == PAGE
    assert channel.findtext("lastBuildDate") == "Thu, 01 Oct 2026 12:30:15 GMT"
    assert channel.find(f"{A}link").get("href") == f"{PAGE}/feed"
    items = channel.findall("item")
    assert [i.findtext("guid") for i in items] == [_entry(2).id, _entry(1).id]
    assert items[0].find("guid").get("isPermaLink") == "false"
    assert items[0].findtext("pubDate") == "Thu, 01 Oct 2026 14:30:15 GMT"


@pytest.mark.parametrize("feed", [atom, rss], ids=["atom", "rss"])
def test_markup_in_titles_appears_only_escaped(feed: Writer) -> None:
    data = _build(feed, [_entry(1, title=XSS)], title=XSS)
    assert b"<script>" not in data
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in data
    titles = [e.text for e in DefusedET.fromstring(data).iter() if e.tag.endswith("title")]
    assert titles == [XSS, XSS]


@pytest.mark.parametrize("feed", [atom, rss], ids=["atom", "rss"])
def test_naive_datetimes_are_rejected(feed: Writer) -> None:
    naive = datetime(2026, 10, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        feed(replace(_content([]), updated=naive))
    with pytest.raises(ValueError, match="timezone-aware"):
        _build(feed, [replace(_entry(1), published=naive)])


def test_naive_entry_update_time_is_rejected_in_atom() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _build(atom, [replace(_entry(1), updated=datetime(2026, 10, 1))])


@pytest.mark.parametrize("feed", [atom, rss], ids=["atom", "rss"])
def test_empty_feed_is_valid(feed: Writer) -> None:
    root = DefusedET.fromstring(_build(feed, []))
    assert root.findall(f".//{A}entry") == [] and root.findall(".//item") == []


@given(st.text())
def test_any_title_gives_well_formed_feeds(title: str) -> None:
    for feed in (atom, rss):
        DefusedET.fromstring(_build(feed, [_entry(1, title=title)], title=title))


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc"))))
def test_printable_titles_round_trip(title: str) -> None:
    root = DefusedET.fromstring(_build(atom, [_entry(1, title=title)]))
    assert (root.findtext(f"{A}entry/{A}title") or "") == title
