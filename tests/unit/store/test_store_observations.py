"""A stored result as the threshold engine sees it."""

from probes.result import CallResult, Outcome
from store.observations import observation


def test_a_call_maps_to_its_metrics_and_asr_flags() -> None:
    call = CallResult(
        kind="sip_call", target="sip:x@h", outcome=Outcome.DROPPED, sip_status=200,
        emodel_mos=4.1, rx_loss_pct=1.0, tx_loss_pct=3.0, location="ams",
    )  # fmt: skip
    seen = observation(call)
    assert (seen.ok, seen.outcome, seen.location) == (False, "dropped (200)", "ams")
    assert (seen.values["mos"], seen.values["loss_pct"]) == (4.1, 3.0)
    assert (seen.answered, seen.completed) == (True, False)


def test_a_run_that_never_reached_the_far_end_is_outside_asr() -> None:
    call = CallResult(kind="sip_call", target="x", outcome=Outcome.INVALID_INPUT)
    seen = observation(call)
    assert (seen.answered, seen.completed, seen.location) == (None, None, "")
    assert observation(CallResult(kind="tcp", target="h:1", outcome=Outcome.OK)).answered is None
