"""Request and response bodies of the status page management API (pydantic), and the
page document it answers with."""

from __future__ import annotations

import html
import re
import uuid
import zoneinfo
from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, Field, model_validator

from api.schemas.common import InputModel, Name, no_nul
from statuspages.warning import DEFAULT_AFTER_MINUTES
from store.status_pages import Component, ComponentFields, Page

# A CSP host-source: scheme and host, an optional leading wildcard label and port.
_ORIGIN = re.compile(
    r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$"
)
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin"
        ) from exc
    return name


def _origin(origin: str) -> str:
    origin = origin.lower().rstrip("/")
    if not _ORIGIN.match(origin):
        raise ValueError(f"{origin!r} is not an origin such as https://support.example.com")
    return origin


def _domain(domain: str) -> str:
    domain = domain.lower().rstrip(".")
    if not _DOMAIN.match(domain):
        raise ValueError(f"{domain!r} is not a domain name such as status.example.com")
    return domain


Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Text = Annotated[str, Field(max_length=2000), AfterValidator(no_nul)]
Zone = Annotated[str, Field(max_length=64), AfterValidator(_zone)]
Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$"), AfterValidator(str.lower)]
Origin = Annotated[str, Field(max_length=300), AfterValidator(_origin)]
Domain = Annotated[str, Field(max_length=253), AfterValidator(_domain)]


class ComponentIn(InputModel):
    """A probe shown on the page under a customer-facing name."""

    probe_id: uuid.UUID
    name: Name
    description: Text = ""
    group: Name | None = None

    def stored(self) -> ComponentFields:
        """The component as the store keeps it."""
        return ComponentFields(
            probe_id=self.probe_id,
            name=self.name,
            description=self.description,
            group_name=self.group,
        )


def _unique_probes(components: list[ComponentIn] | None) -> list[ComponentIn] | None:
    if components is not None:
        seen = [c.probe_id for c in components]
        if len(seen) != len(set(seen)):
            raise ValueError("a probe can be shown only once per page")
    return components


Components = Annotated[list[ComponentIn], Field(max_length=500), AfterValidator(_unique_probes)]


class PageCreate(InputModel):
    """A new status page; ``components`` in display order (groups in order of first use)."""

    name: Name
    slug: Slug
    description: Text = ""
    time_zone: Zone = "UTC"
    bar_days: int = Field(default=90, ge=7, le=90)
    degraded_is_up: bool = False
    primary_color: Color = "#0b5cad"
    frame_ancestors: list[Origin] = Field(default_factory=list, max_length=20)
    refresh_s: int = Field(default=60, ge=5, le=3600)
    custom_domain: Domain | None = None
    components: Components = Field(default_factory=list)


class PageUpdate(InputModel):
    """Fields to change; ``components`` replaces the whole list."""

    name: Name | None = None
    slug: Slug | None = None
    description: Text | None = None
    time_zone: Zone | None = None
    bar_days: int | None = Field(default=None, ge=7, le=90)
    degraded_is_up: bool | None = None
    primary_color: Color | None = None
    frame_ancestors: list[Origin] | None = Field(default=None, max_length=20)
    refresh_s: int | None = Field(default=None, ge=5, le=3600)
    custom_domain: Domain | None = None
    components: Components | None = None

    @model_validator(mode="after")
    def no_null_required(self) -> Self:
        for name in self.model_fields_set - {"custom_domain"}:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ComponentOut(BaseModel):
    """A component with the public id its detail view and JSON use."""

    probe_id: uuid.UUID
    public_id: str
    name: str
    description: str
    group: str | None


class DomainOut(BaseModel):
    """The TXT record that proves the custom domain is the operator's."""

    name: str
    txt_record: str
    txt_value: str
    verified: bool


class PageUrls(BaseModel):
    """Where the page and its machine-readable views are published."""

    page: str
    embed: str
    wall: str
    summary_json: str
    atom: str
    sla: str
    status_badge: str
    uptime_badge: str
    warning_json: str
    warning_script: str


class PageOut(BaseModel):
    """A status page as its operator sees it."""

    id: uuid.UUID
    slug: str
    name: str
    description: str
    time_zone: str
    bar_days: int
    degraded_is_up: bool
    primary_color: str
    frame_ancestors: list[str]
    refresh_s: int
    custom_domain: DomainOut | None
    images: list[str]
    components: list[ComponentOut]
    urls: PageUrls
    embed_snippet: str = Field(description="HTML to paste where the page is embedded")
    embed_note: str | None = Field(description="Why the embed would not show yet, if it would not")
    warning_snippet: str = Field(
        description="HTML a support site includes to warn its visitors while the page is down"
    )
    created_at: datetime
    updated_at: datetime


TXT_PREFIX = "_callprobe-challenge"


def domain_out(page: Page) -> DomainOut | None:
    """The TXT record that would prove the page's custom domain, if it has one."""
    if page.custom_domain is None:
        return None
    return DomainOut(
        name=page.custom_domain,
        txt_record=f"{TXT_PREFIX}.{page.custom_domain}",
        txt_value=f"callprobe-verification={page.domain_token}",
        verified=page.domain_verified_at is not None,
    )


def page_out(page: Page, components: list[Component], urls: PageUrls) -> PageOut:
    """The page as its operator sees it, with the snippet that embeds it."""
    snippet = (
        f'<iframe src="{html.escape(urls.embed)}" title="{html.escape(page.name)} status"'
        ' style="border:0;width:100%;height:640px" loading="lazy"></iframe>'
    )
    warning = (
        f'<script src="{html.escape(urls.warning_script)}" data-page="{html.escape(urls.page)}"'
        f' data-after-minutes="{DEFAULT_AFTER_MINUTES}" async></script>'
    )
    note = (
        None
        if page.frame_ancestors
        else "Browsers refuse to show the embed until frame_ancestors lists the embedding"
        " site's origin, e.g. https://support.example.com"
    )
    return PageOut(
        **{name: getattr(page, name) for name in PageOut.model_fields if hasattr(page, name)}
        | {"custom_domain": domain_out(page)},
        components=[
            ComponentOut(
                probe_id=c.probe_id,
                public_id=c.public_id,
                name=c.name,
                description=c.description,
                group=c.group_name,
            )
            for c in components
        ],
        urls=urls,
        embed_snippet=snippet,
        embed_note=note,
        warning_snippet=warning,
    )


IMAGE_UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            t: {"schema": {"type": "string", "format": "binary"}}
            for t in ("image/svg+xml", "image/png", "image/jpeg", "image/webp")
        },
    }
}
"""OpenAPI of a branding image upload: the raw file is the body."""
