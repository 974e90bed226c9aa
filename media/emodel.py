"""ITU-T G.107 (06/2015) E-model, narrowband: R = Ro - Is - Id - Ie,eff + A.

Every transmission parameter keeps its G.107 default (Table 3) unless a caller
passes other ``G107Parameters``; a probe supplies only what it measures: codec
impairment, packet loss and delay. The scale is narrowband: wideband codecs
belong on the G.107.1 scale (``media.emodel_wideband``), never on this one.
"""

import math
from dataclasses import dataclass, field
from typing import Literal

Scale = Literal["nb", "wb"]

IE_EFF_CEILING = 95.0
"""The 95 of G.107 Eq. 7-29: Ie,eff tends to it as packet loss grows."""


@dataclass(frozen=True, kw_only=True)
class G107Parameters:
    """G.107 Table 3 defaults (loudness ratings in dB, noise in dBm0p / dB(A))."""

    slr: float = 8.0
    rlr: float = 2.0
    stmr: float = 15.0
    ds: float = 3.0
    dr: float = 3.0
    telr: float = 65.0
    wepl: float = 110.0
    nc: float = -70.0
    nfor: float = -64.0
    ps: float = 35.0
    pr: float = 35.0
    qdu: float = 1.0
    mt_ms: float = 100.0
    st: float = 1.0

    @property
    def olr(self) -> float:
        return self.slr + self.rlr

    @property
    def lstr(self) -> float:
        """Listener sidetone rating: LSTR = STMR + Dr (G.107 Table 3 note)."""
        return self.stmr + self.dr


@dataclass(frozen=True, kw_only=True)
class EModelInput:
    codec_ie: float
    codec_bpl: float
    packet_loss_pct: float
    burst_r: float = 1.0
    one_way_delay_ms: float = 0.0
    """Mouth-to-ear delay: used as T and Ta; the round trip Tr is 2 T."""
    advantage: float = 0.0
    parameters: G107Parameters = field(default_factory=G107Parameters)

    def __post_init__(self) -> None:
        if not 0.0 <= self.packet_loss_pct <= 100.0:
            raise ValueError(f"packet_loss_pct must be 0..100, not {self.packet_loss_pct}")
        if self.burst_r <= 0.0 or self.codec_bpl <= 0.0:
            raise ValueError("burst_r and codec_bpl must be positive")
        if self.one_way_delay_ms < 0.0:
            raise ValueError(f"one_way_delay_ms must be >= 0, not {self.one_way_delay_ms}")


@dataclass(frozen=True, kw_only=True)
class EModelResult:
    r: float
    mos: float
    r0: float
    is_: float
    id_: float
    ie_eff: float
    a: float
    scale: Scale = "nb"
    """"nb": G.107, R up to about 93; "wb": G.107.1, R up to 129. Never compare across."""


def emodel(inp: EModelInput) -> EModelResult:
    """Rating R and MOS-CQE of one connection by G.107."""
    p = inp.parameters
    no = noise_floor(p)
    r0 = 15.0 - 1.5 * (p.slr + no)
    is_ = simultaneous_impairment(p, r0, no)
    id_ = delay_impairment(p, r0, no, inp.one_way_delay_ms)
    ie_eff = effective_equipment_impairment(inp)
    r = r0 - is_ - id_ - ie_eff + inp.advantage
    return EModelResult(
        r=r, mos=r_to_mos(r), r0=r0, is_=is_, id_=id_, ie_eff=ie_eff, a=inp.advantage
    )


def r_to_mos(r: float) -> float:
    """G.107 Annex B (Eq. B-4), clamped to [1, 4.5]."""
    if r <= 0.0:
        return 1.0
    if r >= 100.0:
        return 4.5
    # The polynomial dips just below 1 for R < 6.5, hence the lower clamp.
    return max(1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6, 1.0)


def noise_floor(p: G107Parameters) -> float:
    """No (Eq. 7-3): circuit, send-room, receive-room and far-end noise summed in power."""
    nos = p.ps - p.slr - p.ds - 100.0 + 0.004 * (p.ps - p.olr - p.ds - 14.0) ** 2
    pre = p.pr + 10.0 * math.log10(1.0 + 10.0 ** ((10.0 - p.lstr) / 10.0))
    nor = p.rlr - 121.0 + pre + 0.008 * (pre - 35.0) ** 2
    nfo = p.nfor + p.rlr
    return _power_sum(p.nc, nos, nor, nfo)


def simultaneous_impairment(p: G107Parameters, r0: float, no: float) -> float:
    """Is = Iolr + Ist + Iq (Eqs. 7-8 to 7-16)."""
    return _iolr(p, no) + sidetone_impairment(p.stmr) + _iq(p, r0)


def sidetone_impairment(stmr: float) -> float:
    """Ist (Eq. 7-11): too much or too little sidetone."""
    return (
        12.0 * _smooth((stmr - 13.0) / 6.0, 8.0)
        - 28.0 * _smooth((stmr + 1.0) / 19.4, 35.0)
        - 13.0 * _smooth((stmr - 3.0) / 33.0, 13.0)
        + 29.0
    )


def delay_impairment(p: G107Parameters, r0: float, no: float, one_way_ms: float) -> float:
    """Id = Idte + Idle + Idd with T = Ta = one-way delay and Tr = 2 T."""
    talker_echo = _idte(p, no, one_way_ms)
    listener_echo = _idle(p, r0, 2.0 * one_way_ms)
    return talker_echo + listener_echo + pure_delay_impairment(p, one_way_ms)


def pure_delay_impairment(p: G107Parameters, ta_ms: float) -> float:
    """Idd (Eq. 7-28): conversational impairment of absolute delay beyond mT."""
    if ta_ms <= p.mt_ms:
        return 0.0
    x = math.log10(ta_ms / p.mt_ms) / math.log10(2.0)
    k = 6.0 * p.st
    return 25.0 * (_smooth(x, k) - 3.0 * _smooth(x / 3.0, k) + 2.0)


def effective_equipment_impairment(inp: EModelInput) -> float:
    """Ie,eff (Eq. 7-29): codec impairment grown by packet loss."""
    ppl = inp.packet_loss_pct
    return inp.codec_ie + (IE_EFF_CEILING - inp.codec_ie) * ppl / (
        ppl / inp.burst_r + inp.codec_bpl
    )


def _iolr(p: G107Parameters, no: float) -> float:
    xolr = p.olr + 0.2 * (64.0 + no - p.rlr)
    return 20.0 * (_smooth(xolr / 8.0, 8.0) - xolr / 8.0)


def _iq(p: G107Parameters, r0: float) -> float:
    q = 37.0 - 15.0 * math.log10(p.qdu)
    g = 1.07 + 0.258 * q + 0.0602 * q**2
    y = (r0 - 100.0) / 15.0 + 46.0 / 8.4 - g / 9.0
    z = 46.0 / 30.0 - g / 40.0
    return 15.0 * math.log10(1.0 + 10.0**y + 10.0**z)


def _idte(p: G107Parameters, no: float, t_ms: float) -> float:
    terv = (
        p.telr
        - 40.0 * math.log10((1.0 + t_ms / 10.0) / (1.0 + t_ms / 150.0))
        + 6.0 * math.exp(-0.3 * t_ms**2)
    )
    if p.stmr < 9.0:  # Eq. 7-22: low sidetone masks less of the echo
        terv += sidetone_impairment(p.stmr) / 2.0
    roe = -1.5 * (no - p.rlr)
    re = 80.0 + 2.5 * (terv - 14.0)
    diff = roe - re
    return (diff / 2.0 + math.sqrt(diff**2 / 4.0 + 100.0) - 1.0) * (1.0 - math.exp(-t_ms))


def _idle(p: G107Parameters, r0: float, tr_ms: float) -> float:
    rle = 10.5 * (p.wepl + 7.0) * math.pow(tr_ms + 1.0, -0.25)
    diff = r0 - rle
    return diff / 2.0 + math.sqrt(diff**2 / 4.0 + 169.0)


def _smooth(u: float, n: float) -> float:
    """(1 + u^n)^(1/n), G.107's smooth transition between 1 and u."""
    return math.pow(1.0 + math.pow(u, n), 1.0 / n)


def _power_sum(*levels_db: float) -> float:
    return 10.0 * math.log10(sum(10.0 ** (level / 10.0) for level in levels_db))
