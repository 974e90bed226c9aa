"""Email over SMTP: a plain-text and an HTML part with the measured values.

The ``Message-ID`` is derived from the delivery's idempotency key, so a retry after a
crash is the same message to the servers and clients that drop repeats.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Annotated, ClassVar, Literal

from jinja2 import Environment
from pydantic import AfterValidator, Field

from notify.channels import http, wording
from notify.channels.base import ChannelConfig, Delivery, Outbound, Sent
from notify.channels.fields import Secret, narrow
from notify.payloads import ProbeNotice

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def _hostname(value: str) -> bool:
    labels = value.rstrip(".").split(".")
    return len(value) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


def _host(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _hostname(value):
            raise ValueError(f"{value!r} is not a host name or IP address") from None
    return value


def _address(value: str) -> str:
    """A plain ``local@domain.tld`` address (no display name); stricter than RFC 5322 on
    purpose, since a typo here silently loses every notice."""
    local, at, domain = value.rpartition("@")
    if not (at and len(value) <= 254 and _LOCAL.fullmatch(local)):
        raise ValueError(f"{value!r} is not an email address")
    if "." not in domain or not _hostname(domain):
        raise ValueError(f"{value!r} is not an email address (bad domain)")
    return value


Host = Annotated[str, Field(min_length=1), AfterValidator(_host)]
Mailbox = Annotated[str, AfterValidator(_address)]


class EmailConfig(ChannelConfig):
    host: Host
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = Field(default=None, min_length=1, max_length=256)
    sender: Mailbox
    recipients: list[Mailbox] = Field(min_length=1, max_length=50)


class EmailSecrets(ChannelConfig):
    password: Annotated[str | None, Secret] = None


def credentials(config: EmailConfig, secrets: EmailSecrets) -> tuple[str | None, str | None]:
    """The SMTP login: none, or a user with a password."""
    if config.username is not None and not secrets.password:
        raise ValueError("an SMTP username needs a password")
    return config.username, secrets.password if config.username else None


_HTML = Environment(autoescape=True).from_string(
    """<!doctype html>
<html><body style="font-family:sans-serif">
<h2>{{ headline }}</h2>
<table>{% for label, value in facts %}
<tr><th align="left">{{ label }}</th><td>{{ value }}</td></tr>{% endfor %}
</table>
{% if measured %}<h3>Measured</h3>
<ul>{% for line in measured %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}
{% if page %}<p><a href="{{ page.url }}">Open {{ page.name }}</a></p>{% endif %}
</body></html>
"""
)


def text(notice: ProbeNotice) -> str:
    lines = [wording.headline(notice), ""]
    lines += [f"{label}: {value}" for label, value in wording.facts(notice)]
    if notice.reasons:
        lines += ["", "Measured:", *(f"- {line}" for line in wording.measured(notice))]
    page = wording.page(notice)
    if page is not None:
        lines += ["", f"{page.name}: {page.url}"]
    return "\n".join(lines) + "\n"


def html(notice: ProbeNotice) -> str:
    return _HTML.render(
        headline=wording.headline(notice),
        facts=wording.facts(notice),
        measured=wording.measured(notice),
        page=wording.page(notice),
    )


def message(delivery: Delivery, notice: ProbeNotice, config: EmailConfig) -> EmailMessage:
    digest = hashlib.sha256(delivery.key.encode()).hexdigest()[:40]
    mail = EmailMessage()
    mail["Subject"] = wording.clip(f"[callprobe] {wording.headline(notice)}", 250)
    mail["From"] = Address(addr_spec=config.sender)
    mail["To"] = [Address(addr_spec=recipient) for recipient in config.recipients]
    mail["Date"] = format_datetime(notice.occurred_at)
    mail["Message-ID"] = f"<{digest}@{config.sender.rpartition('@')[2]}>"
    mail["X-Callprobe-Idempotency-Key"] = delivery.key
    mail.set_content(text(notice))
    mail.add_alternative(html(notice), subtype="html")
    return mail


class Email:
    kind: ClassVar[str] = "email"
    Config: ClassVar[type[ChannelConfig]] = EmailConfig
    Secrets: ClassVar[type[ChannelConfig]] = EmailSecrets
    formats: ClassVar[frozenset[str]] = frozenset({"probe"})

    @classmethod
    def targets(cls, config: ChannelConfig, secrets: ChannelConfig) -> list[str]:
        """Also where a username without a password fails, at creation."""
        settings = narrow(EmailConfig, config)
        credentials(settings, narrow(EmailSecrets, secrets))
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        return [f"smtp://{host}:{settings.port}"]

    @classmethod
    async def send(
        cls, delivery: Delivery, config: ChannelConfig, secrets: ChannelConfig, out: Outbound
    ) -> Sent:
        if not isinstance(delivery.notice, ProbeNotice):
            return http.unsupported(cls.kind, delivery)
        settings = narrow(EmailConfig, config)
        try:
            username, password = credentials(settings, narrow(EmailSecrets, secrets))
        except ValueError as error:
            return Sent(ok=False, permanent=True, error=str(error))
        mail = message(delivery, delivery.notice, settings)
        return await out.mail(
            mail,
            host=settings.host,
            port=settings.port,
            security=settings.security,
            username=username,
            password=password,
        )
