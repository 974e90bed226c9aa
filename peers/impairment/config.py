"""Validated configuration of the impairment relay (pydantic, fail fast at load time)."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Percent = Annotated[float, Field(ge=0.0, le=100.0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Milliseconds = Annotated[float, Field(ge=0.0)]
Port = Annotated[int, Field(ge=0, le=65535)]


class JitterDistribution(StrEnum):
    """Shape of the extra delay drawn per packet, always within [0, jitter_ms]."""

    UNIFORM = "uniform"  # uniform on [0, jitter_ms]
    NORMAL = "normal"  # mean jitter_ms/2, sd jitter_ms/4, clipped to [0, jitter_ms]


class GilbertElliott(BaseModel):
    """Two-state burst loss: p = P(good→bad), r = P(bad→good) per packet."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    p: Probability
    r: Probability
    loss_bad: Probability = 1.0
    loss_good: Probability = 0.0


class Impairment(BaseModel):
    """What the relay does to the RTP of one direction. The default changes nothing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    loss_pct: Percent = 0.0
    gilbert_elliott: GilbertElliott | None = None
    delay_ms: Milliseconds = 0.0
    jitter_ms: Milliseconds = 0.0
    jitter_distribution: JitterDistribution = JitterDistribution.UNIFORM
    preserve_order: bool = False
    reorder_pct: Percent = 0.0
    reorder_delay_ms: Milliseconds = 30.0
    duplicate_pct: Percent = 0.0


class RelayConfig(BaseModel):
    """One relay: SIP on listen_host:listen_port, forwarded to target_host:target_port."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    listen_host: str = "127.0.0.1"
    listen_port: Port = 5070
    target_host: str = "127.0.0.1"
    target_port: Annotated[int, Field(ge=1, le=65535)] = 5080
    rtp_port_range: tuple[Port, Port] = (40000, 40999)
    to_target: Impairment = Impairment()
    to_client: Impairment = Impairment()
    impair_rtcp: bool = False  # RTCP gets the RTP impairments too (so RTCP RTT shows the delay)
    seed: int = 0
    call_idle_timeout_s: Annotated[float, Field(gt=0.0)] = 60.0
    stats_path: Path | None = None
    stats_interval_s: Annotated[float, Field(gt=0.0)] = 1.0

    @field_validator("listen_host", "target_host")
    @classmethod
    def _concrete_ipv4(cls, value: str) -> str:
        """The listen host is written into SDP and Contact, so it must be a real address."""
        address = ipaddress.ip_address(value)
        if address.version != 4 or address.is_unspecified:
            raise ValueError("must be a concrete IPv4 address")
        return value

    @model_validator(mode="after")
    def _range_holds_a_call(self) -> Self:
        """A call needs two RTP/RTCP pairs: four ports starting at an even one."""
        first, last = self.rtp_port_range
        if last - (first + first % 2) < 3:
            raise ValueError("rtp_port_range must hold at least 4 ports from an even start")
        return self
