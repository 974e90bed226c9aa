"""Per-kind probe options: validated when a probe is created, carried in every lease.

Light module (pydantic only): the API validates probe definitions with it and
agents parse leased runs with it. Secrets (SIP passwords) are not options: they
travel separately, write-only, and are never echoed back.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

KINDS: tuple[str, ...] = ("sip_call", "sip_options", "sip_register", "http", "tcp", "icmp", "push")

StatusCode = Annotated[int, Field(ge=100, le=699)]


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SipCallOptions(_Options):
    """A real call: codec, talk time, transport, optional REGISTER first."""

    kind: Literal["sip_call"] = "sip_call"
    codec: Literal["PCMU", "PCMA", "G722", "GSM", "iLBC", "speex"] = "PCMU"
    talk_s: float = Field(default=10.0, ge=2.0, le=600.0)
    transport: Literal["udp", "tcp"] | None = None
    registrar: str | None = Field(default=None, max_length=500)
    username: str | None = Field(default=None, max_length=200)
    realm: str = Field(default="*", max_length=200)
    follow_redirects: int = Field(
        default=0, ge=0, le=10, description="3xx hops to follow; a loop is reported"
    )


class SipOptionsOptions(_Options):
    """A SIP OPTIONS ping; healthy when the answer is one of ``accepted_codes``."""

    kind: Literal["sip_options"] = "sip_options"
    transport: Literal["udp", "tcp"] = "udp"
    accepted_codes: list[StatusCode] = Field(default_factory=lambda: [200], min_length=1)


class SipRegisterOptions(_Options):
    """A REGISTER with digest auth (the password is the probe's secret)."""

    kind: Literal["sip_register"] = "sip_register"
    transport: Literal["udp", "tcp"] = "udp"
    username: str = Field(min_length=1, max_length=200)
    realm: str = Field(default="*", max_length=200)


class HttpOptions(_Options):
    """An HTTP(S) request; healthy on an accepted status and, if set, a body match."""

    kind: Literal["http"] = "http"
    method: Literal["GET", "HEAD", "POST"] = "GET"
    accepted_status: list[StatusCode] = Field(
        default_factory=lambda: [200, 201, 202, 203, 204, 301, 302, 304], min_length=1
    )
    body_contains: str | None = Field(default=None, max_length=1000)
    verify_tls: bool = True


class TcpOptions(_Options):
    """A TCP connect to ``host:port``; measures connect time."""

    kind: Literal["tcp"] = "tcp"


class IcmpOptions(_Options):
    """ICMP echo: ``count`` pings, ``interval_s`` apart; loss and mean RTT."""

    kind: Literal["icmp"] = "icmp"
    count: int = Field(default=5, ge=1, le=50)
    interval_s: float = Field(default=0.2, ge=0.01, le=5.0)


class PushOptions(_Options):
    """Crisp's push mode: the application reports; dead after ``dead_after_s`` of silence."""

    kind: Literal["push"] = "push"
    dead_after_s: float = Field(default=60.0, ge=5.0, le=86400.0)


ProbeOptions = Annotated[
    SipCallOptions
    | SipOptionsOptions
    | SipRegisterOptions
    | HttpOptions
    | TcpOptions
    | IcmpOptions
    | PushOptions,
    Field(discriminator="kind"),
]

_ADAPTER: TypeAdapter[ProbeOptions] = TypeAdapter(ProbeOptions)


class InvalidOptions(ValueError):
    """Options that do not fit the probe's kind; the message names the field."""


def parse_options(kind: str, options: dict[str, Any]) -> ProbeOptions:
    """Validate ``options`` for ``kind``; raises :class:`InvalidOptions` with a clear message."""
    if kind not in KINDS:
        raise InvalidOptions(f"unknown probe kind {kind!r}; expected one of {', '.join(KINDS)}")
    try:
        return _ADAPTER.validate_python({**options, "kind": kind})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'options'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidOptions(problems) from exc
