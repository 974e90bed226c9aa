"""The metrics a threshold rule can bind, and which way is better for each."""

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, kw_only=True, slots=True)
class Metric:
    """A measured quantity; ``higher_is_better`` says which side of a bound is worse."""

    name: str
    unit: str
    higher_is_better: bool
    description: str


ASR = "asr_pct"
SCR = "scr_pct"
WINDOWED = (ASR, SCR)
"""Metrics judged over a sliding window of calls (``asr_window``), never on one run."""

_ALL = (
    Metric(
        name="mos",
        unit="MOS",
        higher_is_better=True,
        description="MOS-LQO by PESQ when present, else E-model MOS",
    ),
    Metric(
        name="pesq_mos",
        unit="MOS",
        higher_is_better=True,
        description="MOS-LQO by PESQ (ITU-T P.862.1 / P.862.2)",
    ),
    Metric(
        name="emodel_mos",
        unit="MOS",
        higher_is_better=True,
        description="MOS-CQE from the E-model (ITU-T G.107)",
    ),
    Metric(
        name="r_factor",
        unit="R",
        higher_is_better=True,
        description="E-model transmission rating R",
    ),
    Metric(
        name="jitter_ms",
        unit="ms",
        higher_is_better=False,
        description="RTP interarrival jitter (RFC 3550)",
    ),
    Metric(
        name="loss_pct",
        unit="%",
        higher_is_better=False,
        description="Packet loss, worst of receive and transmit",
    ),
    Metric(name="rtt_ms", unit="ms", higher_is_better=False, description="Round-trip time"),
    Metric(
        name="pdd_ms",
        unit="ms",
        higher_is_better=False,
        description="Post-dial delay: INVITE to first ringing or answer",
    ),
    Metric(
        name="setup_ms",
        unit="ms",
        higher_is_better=False,
        description="Call setup time: INVITE to 200 OK",
    ),
    Metric(
        name="register_ms",
        unit="ms",
        higher_is_better=False,
        description="REGISTER transaction time",
    ),
    Metric(
        name=ASR,
        unit="%",
        higher_is_better=True,
        description="Answer-seizure ratio over a sliding window of calls (ITU-T E.411)",
    ),
    Metric(
        name=SCR,
        unit="%",
        higher_is_better=True,
        description=(
            "Session completion ratio over the same window (RFC 6076 section 4.9): calls"
            " answered with media agreed and not dropped by the far end, of all attempts"
        ),
    ),
    Metric(
        name="latency_ms",
        unit="ms",
        higher_is_better=False,
        description="Check response time",
    ),
    Metric(
        name="load_cpu",
        unit="ratio",
        higher_is_better=False,
        description="CPU load ratio 0..1 from push reports",
    ),
    Metric(
        name="load_ram",
        unit="ratio",
        higher_is_better=False,
        description="RAM load ratio 0..1 from push reports",
    ),
)

METRICS = MappingProxyType({metric.name: metric for metric in _ALL})
"""Every bindable metric by name. Status codes are not metrics: a failed outcome is."""
