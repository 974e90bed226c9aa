"""E-model rating of a measured call: codec, loss, jitter-buffer discards and delay."""

from media.codecs import Codec, get_codec
from media.emodel import EModelInput, EModelResult, emodel
from media.emodel_wideband import emodel_wideband


def emodel_for_call(
    codec: Codec | str,
    rx_loss_pct: float,
    jb_discard_pct: float,
    one_way_delay_ms: float,
    plc: bool = True,
    *,
    burst_r: float = 1.0,
) -> EModelResult:
    """Rate a call on its codec's own scale (G.107 narrowband, G.107.1 wideband).

    ``jb_discard_pct`` is the share of *arrived* packets the jitter buffer threw
    away: the listener loses them just like packets lost on the network.
    """
    if isinstance(codec, str):
        codec = get_codec(codec)
    inp = EModelInput(
        codec_ie=codec.ie,
        codec_bpl=codec.bpl if plc else codec.bpl_without_plc,
        packet_loss_pct=listener_loss_pct(rx_loss_pct, jb_discard_pct),
        burst_r=burst_r,
        one_way_delay_ms=one_way_delay_ms,
    )
    return emodel_wideband(inp) if codec.wideband else emodel(inp)


def listener_loss_pct(rx_loss_pct: float, jb_discard_pct: float) -> float:
    """Packets the listener never hears: lost in the network, or arrived and discarded."""
    heard = (1.0 - rx_loss_pct / 100.0) * (1.0 - jb_discard_pct / 100.0)
    return 100.0 * (1.0 - heard)
