"""Human-readable rendering of call results for the terminal (rich)."""

from __future__ import annotations

from rich.table import Table

from probes.result import CallResult, Outcome

_ROWS: tuple[tuple[str, str, str], ...] = (
    ("sip_status", "Final SIP status", ""),
    ("provisional_status", "Highest provisional (1xx)", ""),
    ("redirect_to", "Redirected to", ""),
    ("answer_codecs", "Codecs in the far end's answer", ""),
    ("media_direction", "Media direction answered", ""),
    ("ended_by", "Ended by", ""),
    ("dropped_after_ms", "Dropped after answer", "ms"),
    ("end_reason", "Far end's Reason header", ""),
    ("audio_failed", "Audio missing", ""),
    ("register_ms", "Registration delay (RRD, RFC 6076)", "ms"),
    ("pdd_ms", "Post-dial delay (SRD to 18x, RFC 6076)", "ms"),
    ("setup_ms", "Setup time (INVITE to 200)", "ms"),
    ("talk_s", "Talk time", "s"),
    ("codec", "Codec", ""),
    ("rx_packets", "RTP packets received", ""),
    ("rx_loss_pct", "RX loss (RFC 3550)", "%"),
    ("tx_loss_pct", "TX loss (far end's RTCP)", "%"),
    ("jitter_ms", "Jitter mean (RFC 3550)", "ms"),
    ("jitter_max_ms", "Jitter max", "ms"),
    ("rtt_ms", "Round trip (RTCP)", "ms"),
    ("jb_discards", "Jitter-buffer discards", ""),
    ("jb_delay_ms", "Jitter-buffer delay", "ms"),
    ("pesq_mos", "MOS-LQO (PESQ)", ""),
    ("pesq_ceiling", "Codec ceiling (offline PESQ)", ""),
    ("emodel_mos", "MOS-CQE (E-model G.107)", ""),
    ("r_factor", "R-factor", ""),
    ("r0", "  R0 (basic signal-to-noise)", ""),
    ("ie_eff", "  Ie,eff (codec + loss)", ""),
    ("id_delay", "  Id (delay)", ""),
)

_STYLE = {Outcome.OK: "green", Outcome.NO_AUDIO: "yellow", Outcome.DROPPED: "yellow"}


def result_table(result: CallResult) -> Table:
    """One call as a two-column table; unmeasured metrics are left out."""
    style = _STYLE.get(result.outcome, "red")
    title = f"{result.target}: [{style}]{result.outcome.value}[/{style}]"
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    if result.error:
        table.add_row("Error", f"[{style}]{result.error}[/{style}]")
    for name, label, unit in _ROWS:
        value = getattr(result, name)
        if value is not None:
            table.add_row(label, _fmt(value, unit))
    return table


def _fmt(value: object, unit: str) -> str:
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    return f"{text} {unit}".strip()
