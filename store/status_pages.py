"""Repository of status pages, their components, branding images and announcements.

Management functions are scoped by project; the public lookups (by slug or by a
verified custom domain) are not, and return only what a page shows.

A custom domain is unique among verified pages only, and the page that proves it
by DNS takes it from every other page. The slug of a deleted or renamed page stays
reserved to its project for a number of days; slug changes take a transaction-scoped
advisory lock per slug, so a delete and another project's create cannot interleave.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from store.errors import Conflict, NotFound
from store.pool import AsyncConn
from store.rows import fetch_all, fetch_found, fetch_new, fetch_one, write_found

PAGE_FIELDS: tuple[str, ...] = (
    *("slug", "name", "description", "time_zone", "bar_days", "degraded_is_up"),
    *("primary_color", "frame_ancestors", "refresh_s", "custom_domain"),
)
"""The columns an operator sets."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Page:
    """A stored status page."""

    id: uuid.UUID
    project_id: uuid.UUID
    slug: str
    name: str
    description: str
    time_zone: str
    bar_days: int
    degraded_is_up: bool
    primary_color: str
    frame_ancestors: list[str]
    refresh_s: int
    custom_domain: str | None
    domain_token: str
    domain_verified_at: datetime | None
    images: list[str]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ComponentFields:
    """A component as the operator defines it; list order is display order."""

    probe_id: uuid.UUID
    name: str
    description: str
    group_name: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Component:
    """A stored component of a page."""

    probe_id: uuid.UUID
    public_id: str
    position: int
    name: str
    description: str
    group_name: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Announcement:
    """A notice the operator posts on a page."""

    id: uuid.UUID
    page_id: uuid.UUID
    public_id: str
    title: str
    body: str
    starts_at: datetime
    ends_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredImage:
    """A validated branding image."""

    media_type: str
    data: bytes
    sha256: str


_SELECT = sql.SQL("""
SELECT p.id, p.project_id, p.slug, p.name, p.description, p.time_zone, p.bar_days,
       p.degraded_is_up, p.primary_color, p.frame_ancestors, p.refresh_s, p.custom_domain,
       p.domain_token, p.domain_verified_at,
       coalesce((SELECT array_agg(i.slot ORDER BY i.slot) FROM status_page_images i
                 WHERE i.page_id = p.id), '{}') AS images,
       p.created_at, p.updated_at
FROM status_pages p
""")
_LIST = _SELECT + sql.SQL("WHERE p.project_id = %(project)s ORDER BY p.slug")
_GET = _SELECT + sql.SQL("WHERE p.project_id = %(project)s AND p.id = %(page)s")
_BY_SLUG = _SELECT + sql.SQL("WHERE p.slug = %(slug)s")
_BY_DOMAIN = _SELECT + sql.SQL(
    "WHERE p.custom_domain = %(domain)s AND p.domain_verified_at IS NOT NULL"
)
_DOMAINS = (
    "SELECT custom_domain, slug FROM status_pages"
    " WHERE custom_domain IS NOT NULL AND domain_verified_at IS NOT NULL"
)
_SLUGS = "SELECT slug FROM status_pages WHERE project_id = %(project)s"
_EXISTS = "SELECT 1 FROM status_pages WHERE project_id = %(project)s AND id = %(page)s"
_DELETE = "DELETE FROM status_pages WHERE project_id = %(project)s AND id = %(page)s RETURNING slug"
_VERIFIED = (
    "UPDATE status_pages SET domain_verified_at = now() WHERE id = %(page)s"
    " AND custom_domain IS NOT DISTINCT FROM %(domain)s"
)
_DROP_OTHER_CLAIMS = """
UPDATE status_pages SET custom_domain = NULL, domain_verified_at = NULL, updated_at = now()
WHERE custom_domain = %(domain)s AND id <> %(page)s
RETURNING slug
"""

SLUG_LOCK_CLASS = 0x736C7567
"""First key of the per-slug advisory locks: "slug" in ASCII."""
_SLUG_LOCK = "SELECT pg_advisory_xact_lock(%(class)s, hashtext(%(slug)s))"
_RESERVED_UNTIL = """
SELECT reserved_until FROM slug_reservations
WHERE slug = %(slug)s AND project_id <> %(project)s AND reserved_until > now()
"""
_UNRESERVE = (
    "DELETE FROM slug_reservations WHERE slug = %(slug)s"
    " AND (project_id = %(project)s OR reserved_until <= now())"
)
_RESERVE = """
INSERT INTO slug_reservations (slug, project_id, reserved_until)
VALUES (%(slug)s, %(project)s, now() + make_interval(days => %(days)s))
ON CONFLICT (slug) DO UPDATE
SET project_id = excluded.project_id, reserved_until = excluded.reserved_until
"""

_COMPONENTS = """
SELECT probe_id, public_id, position, name, description, group_name
FROM status_page_components WHERE page_id = %(page)s ORDER BY position
"""
_CLEAR_COMPONENTS = "DELETE FROM status_page_components WHERE page_id = %(page)s"
_INSERT_COMPONENT = """
INSERT INTO status_page_components
    (page_id, probe_id, public_id, position, name, description, group_name)
VALUES (%(page)s, %(probe)s, %(public_id)s, %(position)s, %(name)s, %(description)s, %(group)s)
"""
_OWNED_PROBES = "SELECT id FROM probes WHERE project_id = %(project)s AND id = ANY(%(ids)s)"

_IMAGE = """
SELECT media_type, data, sha256 FROM status_page_images WHERE page_id = %(page)s AND slot = %(slot)s
"""
_PUT_IMAGE = """
INSERT INTO status_page_images (page_id, slot, media_type, data, sha256)
VALUES (%(page)s, %(slot)s, %(media_type)s, %(data)s, %(sha256)s)
ON CONFLICT (page_id, slot) DO UPDATE SET
    media_type = excluded.media_type, data = excluded.data, sha256 = excluded.sha256
"""
_DELETE_IMAGE = "DELETE FROM status_page_images WHERE page_id = %(page)s AND slot = %(slot)s"
_TOUCH = "UPDATE status_pages SET updated_at = now() WHERE id = %(page)s"

_INSERT_ANNOUNCEMENT = """
INSERT INTO status_page_announcements (page_id, public_id, title, body, starts_at, ends_at)
VALUES (%(page)s, %(public_id)s, %(title)s, %(body)s, coalesce(%(starts_at)s, now()), %(ends_at)s)
RETURNING id, page_id, public_id, title, body, starts_at, ends_at, created_at
"""
_ANNOUNCEMENTS = """
SELECT id, page_id, public_id, title, body, starts_at, ends_at, created_at
FROM status_page_announcements WHERE page_id = %(page)s ORDER BY starts_at DESC, id
"""
_DELETE_ANNOUNCEMENT = (
    "DELETE FROM status_page_announcements WHERE page_id = %(page)s AND id = %(id)s RETURNING id"
)


def public_id() -> str:
    """An opaque name for public URLs and JSON (12 hex characters, like Statuspage's)."""
    return secrets.token_hex(6)


async def _savepoint(conn: AsyncConn, query: sql.Composed, params: dict[str, Any]) -> Any:
    """Run one write, turning a slug or domain clash into :class:`Conflict`."""
    try:
        async with conn.transaction():
            return await (await conn.execute(query, params)).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        column = "slug" if "slug" in str(exc) else "custom domain"
        raise Conflict(f"another status page already uses this {column}") from exc


async def _lock_slugs(conn: AsyncConn, *slugs: str) -> None:
    for slug in sorted(set(slugs)):
        await conn.execute(_SLUG_LOCK, {"class": SLUG_LOCK_CLASS, "slug": slug})


async def _claim_slug(conn: AsyncConn, project_id: uuid.UUID, slug: str) -> None:
    """Take ``slug`` for the project, or :class:`Conflict` while another project holds it."""
    params = {"slug": slug, "project": project_id}
    row = await (await conn.execute(_RESERVED_UNTIL, params)).fetchone()
    if row is not None:
        raise Conflict(
            f"the slug {slug!r} belonged to another project's page and stays reserved to it"
            f" until {row[0]:%Y-%m-%d}: choose another slug"
        )
    await conn.execute(_UNRESERVE, params)


async def _reserve_slug(conn: AsyncConn, project_id: uuid.UUID, slug: str, days: int) -> None:
    if days > 0:
        await conn.execute(_RESERVE, {"slug": slug, "project": project_id, "days": days})


async def create_page(conn: AsyncConn, project_id: uuid.UUID, fields: dict[str, Any]) -> Page:
    """Store a new page; :class:`Conflict` when its slug (or a reservation of it by another
    project) or its verified domain is taken."""
    await _lock_slugs(conn, fields["slug"])
    await _claim_slug(conn, project_id, fields["slug"])
    names = [name for name in PAGE_FIELDS if name in fields]
    query = sql.SQL(
        "INSERT INTO status_pages (project_id, domain_token, {columns})"
        " VALUES (%(project)s, %(token)s, {values}) RETURNING id"
    ).format(
        columns=sql.SQL(", ").join(map(sql.Identifier, names)),
        values=sql.SQL(", ").join(sql.Placeholder(name) for name in names),
    )
    params = {**fields, "project": project_id, "token": secrets.token_urlsafe(24)}
    (page_id,) = await _savepoint(conn, query, params)
    return await get_page(conn, project_id, page_id)


async def update_page(
    conn: AsyncConn,
    project_id: uuid.UUID,
    page_id: uuid.UUID,
    fields: dict[str, Any],
    *,
    reserve_days: int,
) -> Page:
    """Change the given fields; a new custom domain must be verified again, a new slug
    is claimed like a new page's and the old one stays reserved for ``reserve_days``."""
    if "slug" in fields:
        await _move_slug(conn, project_id, page_id, fields["slug"], reserve_days)
    names = [name for name in PAGE_FIELDS if name in fields]
    domain_reset = sql.SQL(
        ", domain_verified_at = CASE WHEN custom_domain IS NOT DISTINCT FROM %(custom_domain)s"
        " THEN domain_verified_at END"
        if "custom_domain" in fields
        else ""
    )
    query = sql.SQL(
        "UPDATE status_pages SET updated_at = now(){domain_reset}{assignments}"
        " WHERE project_id = %(project)s AND id = %(page)s RETURNING id"
    ).format(
        domain_reset=domain_reset,
        assignments=sql.SQL("").join(
            sql.SQL(", {} = {}").format(sql.Identifier(name), sql.Placeholder(name))
            for name in names
        ),
    )
    if await _savepoint(conn, query, {**fields, "project": project_id, "page": page_id}) is None:
        raise NotFound("status page not found")
    return await get_page(conn, project_id, page_id)


async def _move_slug(
    conn: AsyncConn, project_id: uuid.UUID, page_id: uuid.UUID, slug: str, reserve_days: int
) -> None:
    old = (await get_page(conn, project_id, page_id)).slug
    if old != slug:
        await _lock_slugs(conn, old, slug)
        await _claim_slug(conn, project_id, slug)
        await _reserve_slug(conn, project_id, old, reserve_days)


async def get_page(conn: AsyncConn, project_id: uuid.UUID, page_id: uuid.UUID) -> Page:
    """A page of the project, or :class:`NotFound`."""
    params = {"project": project_id, "page": page_id}
    return await fetch_found(conn, Page, _GET, params, missing="status page not found")


async def page_exists(conn: AsyncConn, project_id: uuid.UUID, page_id: uuid.UUID) -> bool:
    """Whether the project has this page (other projects' pages do not count)."""
    params = {"project": project_id, "page": page_id}
    return await (await conn.execute(_EXISTS, params)).fetchone() is not None


async def project_slugs(conn: AsyncConn, project_id: uuid.UUID) -> list[str]:
    """The slugs of the project's pages."""
    rows = await (await conn.execute(_SLUGS, {"project": project_id})).fetchall()
    return [row[0] for row in rows]


async def list_pages(conn: AsyncConn, project_id: uuid.UUID) -> list[Page]:
    """The project's pages by slug."""
    return await fetch_all(conn, Page, _LIST, {"project": project_id})


async def delete_page(
    conn: AsyncConn, project_id: uuid.UUID, page_id: uuid.UUID, *, reserve_days: int
) -> str:
    """Delete a page with its components, images, announcements and windows; its slug
    stays reserved to the project for ``reserve_days``. Returns the slug."""
    slug = (await get_page(conn, project_id, page_id)).slug
    await _lock_slugs(conn, slug)
    row = await (await conn.execute(_DELETE, {"project": project_id, "page": page_id})).fetchone()
    if row is None:
        raise NotFound("status page not found")
    await _reserve_slug(conn, project_id, slug, reserve_days)
    return slug


async def page_by_slug(conn: AsyncConn, slug: str) -> Page | None:
    """The page published at ``/s/<slug>``."""
    return await fetch_one(conn, Page, _BY_SLUG, {"slug": slug})


async def page_by_domain(conn: AsyncConn, domain: str) -> Page | None:
    """The page answering on a verified custom domain."""
    return await fetch_one(conn, Page, _BY_DOMAIN, {"domain": domain})


async def verified_domains(conn: AsyncConn) -> dict[str, str]:
    """Every verified custom domain and its page's slug."""
    return dict(await (await conn.execute(_DOMAINS)).fetchall())


async def mark_domain_verified(conn: AsyncConn, page_id: uuid.UUID, domain: str) -> list[str]:
    """Record that ``domain``'s TXT record held the page's token (if still its domain):
    every other page's claim of it (verified or not) is dropped. Their slugs."""
    params = {"page": page_id, "domain": domain}
    dropped = [row[0] for row in await (await conn.execute(_DROP_OTHER_CLAIMS, params)).fetchall()]
    await conn.execute(_VERIFIED, params)
    return dropped


async def components(conn: AsyncConn, page_id: uuid.UUID) -> list[Component]:
    """A page's components in display order."""
    return await fetch_all(conn, Component, _COMPONENTS, {"page": page_id})


async def foreign_probes(
    conn: AsyncConn, project_id: uuid.UUID, probe_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of ``probe_ids`` that are not the project's probes."""
    params = {"project": project_id, "ids": list(probe_ids)}
    owned = {row[0] for row in await (await conn.execute(_OWNED_PROBES, params)).fetchall()}
    return set(probe_ids) - owned


async def set_components(
    conn: AsyncConn, page_id: uuid.UUID, fields: Sequence[ComponentFields]
) -> list[Component]:
    """Replace a page's components (probes are never touched); a probe already shown
    keeps its public id, so links to its detail view stay valid."""
    kept = {c.probe_id: c.public_id for c in await components(conn, page_id)}
    await conn.execute(_CLEAR_COMPONENTS, {"page": page_id})
    async with conn.cursor() as cur:
        await cur.executemany(
            _INSERT_COMPONENT,
            [
                {
                    "page": page_id,
                    "probe": c.probe_id,
                    "public_id": kept.get(c.probe_id) or public_id(),
                    "position": position,
                    "name": c.name,
                    "description": c.description,
                    "group": c.group_name,
                }
                for position, c in enumerate(fields)
            ],
        )
    await conn.execute(_TOUCH, {"page": page_id})
    return await components(conn, page_id)


async def image(conn: AsyncConn, page_id: uuid.UUID, slot: str) -> StoredImage | None:
    """A page's branding image in ``slot``."""
    return await fetch_one(conn, StoredImage, _IMAGE, {"page": page_id, "slot": slot})


async def put_image(
    conn: AsyncConn, page_id: uuid.UUID, slot: str, media_type: str, data: bytes
) -> None:
    """Store an already validated image in ``slot``, replacing the old one."""
    params = {
        "page": page_id,
        "slot": slot,
        "media_type": media_type,
        "data": data,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    await conn.execute(_PUT_IMAGE, params)
    await conn.execute(_TOUCH, {"page": page_id})


async def delete_image(conn: AsyncConn, page_id: uuid.UUID, slot: str) -> None:
    """Remove the image in ``slot`` (nothing there is fine)."""
    await conn.execute(_DELETE_IMAGE, {"page": page_id, "slot": slot})
    await conn.execute(_TOUCH, {"page": page_id})


async def create_announcement(
    conn: AsyncConn,
    page_id: uuid.UUID,
    *,
    title: str,
    body: str,
    starts_at: datetime | None,
    ends_at: datetime | None,
) -> Announcement:
    """Post a notice on a page (now, unless ``starts_at`` says when)."""
    params = {
        "page": page_id,
        "public_id": public_id(),
        "title": title,
        "body": body,
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    row = await fetch_new(conn, Announcement, _INSERT_ANNOUNCEMENT, params)
    await conn.execute(_TOUCH, {"page": page_id})
    return row


async def announcements(conn: AsyncConn, page_id: uuid.UUID) -> list[Announcement]:
    """A page's notices, newest first."""
    return await fetch_all(conn, Announcement, _ANNOUNCEMENTS, {"page": page_id})


async def delete_announcement(
    conn: AsyncConn, page_id: uuid.UUID, announcement_id: uuid.UUID
) -> None:
    """Remove a notice of the page, or :class:`NotFound`."""
    params = {"page": page_id, "id": announcement_id}
    await write_found(conn, _DELETE_ANNOUNCEMENT, params, missing="announcement not found")
    await conn.execute(_TOUCH, {"page": page_id})
