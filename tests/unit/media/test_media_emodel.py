from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.call_rating import emodel_for_call, listener_loss_pct
from media.emodel import EModelInput, G107Parameters, emodel, r_to_mos
from media.emodel_wideband import emodel_wideband, r_wb_to_mos


def g711_plc(loss_pct: float = 0.0, delay_ms: float = 0.0) -> EModelInput:
    return EModelInput(
        codec_ie=0.0, codec_bpl=25.1, packet_loss_pct=loss_pct, one_way_delay_ms=delay_ms
    )


def test_defaults_give_the_g107_reference_rating() -> None:
    result = emodel(EModelInput(codec_ie=0.0, codec_bpl=4.3, packet_loss_pct=0.0))
    assert result.r == pytest.approx(93.2, abs=0.01)
    assert round(result.mos, 2) == 4.41
    assert result.r0 == pytest.approx(94.77, abs=0.01)
    assert result.is_ == pytest.approx(1.41, abs=0.01)
    assert result.id_ == pytest.approx(0.15, abs=0.01)
    assert (result.ie_eff, result.a, result.scale) == (0.0, 0.0, "nb")


@pytest.mark.parametrize(
    ("loss_pct", "expected_r"), [(1.0, 89.6), (2.0, 86.2), (5.0, 77.4), (10.0, 66.1)]
)
def test_g711_with_plc_under_random_loss(loss_pct: float, expected_r: float) -> None:
    assert emodel(g711_plc(loss_pct)).r == pytest.approx(expected_r, abs=0.1)


def test_g711_without_plc_suffers_more() -> None:
    without = emodel(EModelInput(codec_ie=0.0, codec_bpl=4.3, packet_loss_pct=2.0))
    assert without.r < emodel(g711_plc(2.0)).r - 20


def test_bursty_loss_hurts_more_than_random() -> None:
    bursty = emodel(EModelInput(codec_ie=0.0, codec_bpl=25.1, packet_loss_pct=5.0, burst_r=2.0))
    assert bursty.r < emodel(g711_plc(5.0)).r


@given(st.floats(0.0, 99.0), st.floats(0.1, 1.0))
def test_rating_falls_as_loss_grows(loss_pct: float, step: float) -> None:
    assert emodel(g711_plc(loss_pct + step)).r < emodel(g711_plc(loss_pct)).r


@given(st.floats(1.0, 800.0), st.floats(0.25, 50.0))
def test_rating_falls_as_delay_grows(delay_ms: float, step: float) -> None:
    # From 1 ms on: below it G.107's talker-echo term Idte is slightly negative
    # with the default TELR, so R peaks at 93.26 near 0.75 ms (a formula fact).
    assert emodel(g711_plc(delay_ms=delay_ms + step)).r < emodel(g711_plc(delay_ms=delay_ms)).r


@pytest.mark.parametrize(
    ("delay_ms", "min_r", "max_r"), [(0, 93.1, 93.3), (150, 89.0, 90.5), (400, 55.0, 70.0)]
)
def test_delay_table(delay_ms: float, min_r: float, max_r: float) -> None:
    assert min_r < emodel(g711_plc(delay_ms=delay_ms)).r < max_r


@pytest.mark.parametrize(
    ("r", "mos"), [(-5.0, 1.0), (0.0, 1.0), (3.0, 1.0), (50.0, 2.575), (93.2, 4.409), (120, 4.5)]
)
def test_r_to_mos_annex_b_clamped(r: float, mos: float) -> None:
    assert r_to_mos(r) == pytest.approx(mos, abs=0.001)


@given(st.floats(-200.0, 300.0))
def test_mos_always_within_scale(r: float) -> None:
    assert 1.0 <= r_to_mos(r) <= 4.5
    assert 1.0 <= r_wb_to_mos(r) <= 4.5


def test_low_sidetone_path_is_computed() -> None:
    quiet = EModelInput(
        codec_ie=0.0,
        codec_bpl=25.1,
        packet_loss_pct=0.0,
        one_way_delay_ms=100.0,
        parameters=G107Parameters(stmr=7.0),
    )
    assert emodel(quiet).r < emodel(g711_plc(delay_ms=100.0)).r


@pytest.mark.parametrize(
    ("ie_wb", "expected_r", "expected_mos"), [(0.0, 129.0, 4.5), (13.0, 116.0, 4.337)]
)
def test_wideband_scale(ie_wb: float, expected_r: float, expected_mos: float) -> None:
    result = emodel_wideband(EModelInput(codec_ie=ie_wb, codec_bpl=25.1, packet_loss_pct=0.0))
    assert result.r == pytest.approx(expected_r)
    assert result.mos == pytest.approx(expected_mos, abs=0.001)
    assert (result.r0, result.scale) == (129.0, "wb")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("packet_loss_pct", -1.0),
        ("packet_loss_pct", 101.0),
        ("burst_r", 0.0),
        ("one_way_delay_ms", -5.0),
        ("codec_bpl", 0.0),
    ],
)
def test_invalid_input_is_refused(field: str, value: float) -> None:
    kwargs: dict[str, Any] = {"codec_ie": 0.0, "codec_bpl": 25.1, "packet_loss_pct": 0.0}
    kwargs[field] = value
    with pytest.raises(ValueError, match=field.split("_", maxsplit=1)[0]):
        EModelInput(**kwargs)


@pytest.mark.parametrize(
    ("rx", "discard", "expected"),
    [(0.0, 0.0, 0.0), (1.0, 0.0, 1.0), (0.0, 2.0, 2.0), (10.0, 10.0, 19.0), (100.0, 50.0, 100.0)],
)
def test_listener_loss_combines_network_loss_and_discards(
    rx: float, discard: float, expected: float
) -> None:
    assert listener_loss_pct(rx, discard) == pytest.approx(expected)


def test_call_rating_uses_codec_values_and_plc_switch() -> None:
    assert emodel_for_call("pcmu", 1.0, 0.0, 0.0).r == pytest.approx(89.6, abs=0.1)
    with_discards = emodel_for_call("PCMU", 1.0, 1.0, 0.0)
    assert with_discards.r == pytest.approx(emodel(g711_plc(1.99)).r, abs=0.01)
    without_plc = emodel_for_call("PCMA", 2.0, 0.0, 0.0, plc=False)
    assert without_plc.r < emodel_for_call("PCMA", 2.0, 0.0, 0.0).r - 20


def test_call_rating_puts_wideband_codecs_on_their_own_scale() -> None:
    g722 = emodel_for_call("G722", 0.0, 0.0, 0.0)
    assert g722.scale == "wb"
    assert g722.r == pytest.approx(116.0)
    assert emodel_for_call("GSM", 0.0, 0.0, 0.0).scale == "nb"
