"""ITU-T G.107.1 wideband E-model, for wideband codecs such as G.722.

G.107.1 keeps G.107's structure on a wider scale: Ro,wb = 129 and Is,wb = 0.
Echo is assumed controlled, so Id,wb here is only G.107's pure-delay term Idd
(the echo terms need handset echo data a probe does not measure). Ie,eff,wb
follows G.107.1 Eq. 7-15, which keeps G.107's 95. R,wb maps to MOS by G.107.1
Annex A: the narrowband Annex B curve applied to R,wb / 1.29. Wideband R and
narrowband R are different scales: compare each only with its own kind.
"""

from media.emodel import (
    EModelInput,
    EModelResult,
    effective_equipment_impairment,
    pure_delay_impairment,
    r_to_mos,
)

RO_WB = 129.0
WB_PER_NB = 1.29
"""G.107.1 Annex A: R,wb = 1.29 x R on the narrowband scale."""


def emodel_wideband(inp: EModelInput) -> EModelResult:
    """R,wb and MOS of one wideband connection; ``codec_ie``/``codec_bpl`` are Ie,wb/Bpl,wb."""
    id_ = pure_delay_impairment(inp.parameters, inp.one_way_delay_ms)
    ie_eff = effective_equipment_impairment(inp)
    r = RO_WB - id_ - ie_eff + inp.advantage
    return EModelResult(
        r=r,
        mos=r_wb_to_mos(r),
        r0=RO_WB,
        is_=0.0,
        id_=id_,
        ie_eff=ie_eff,
        a=inp.advantage,
        scale="wb",
    )


def r_wb_to_mos(r_wb: float) -> float:
    """G.107.1 Annex A, clamped to [1, 4.5] like the narrowband curve."""
    return r_to_mos(r_wb / WB_PER_NB)
