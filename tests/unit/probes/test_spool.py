from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from probes.result import CallResult, Outcome
from probes.spool import REJECTED_DIR, Spool

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _result(minute: int = 0, **changes: object) -> CallResult:
    return CallResult(
        target="sip:echo@192.0.2.1",
        outcome=Outcome.OK,
        started_at=T0 + timedelta(minutes=minute),
        **changes,  # type: ignore[arg-type]
    )


def test_spooled_results_survive_a_killed_process(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, signal
        from datetime import UTC, datetime
        from pathlib import Path
        from probes.result import CallResult, Outcome
        from probes.spool import Spool
        spool = Spool(Path({str(tmp_path)!r}))
        for minute in range(3):
            spool.spool(CallResult(target="sip:x@192.0.2.1", outcome=Outcome.NO_AUDIO,
                                   started_at=datetime(2026, 1, 1, 0, minute, tzinfo=UTC)))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, check=False)
    assert done.returncode == -9
    pending = Spool(tmp_path).pending()
    assert [r.started_at.minute for r in pending] == [0, 1, 2]
    assert {r.outcome for r in pending} == {Outcome.NO_AUDIO}


def test_pending_round_trips_every_field_oldest_first(tmp_path: Path) -> None:
    late, early = _result(5, pesq_mos=3.9, codec="PCMA", sip_status=200), _result(1, error="é")
    Spool(tmp_path).spool_all([late, early])
    assert Spool(tmp_path).pending() == [early, late]


def test_spooling_a_run_twice_keeps_one_copy(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    result = _result()
    spool.spool(result)
    spool.spool(result)
    assert spool.pending() == [result]


def test_acknowledged_results_are_gone(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    kept, sent = _result(1), _result(2)
    spool.spool_all([kept, sent])
    spool.acknowledge([sent.run_id, _result().run_id])
    assert Spool(tmp_path).pending() == [kept]


def test_a_write_cut_short_is_discarded(tmp_path: Path) -> None:
    (tmp_path / ".partial-x.json").write_text('{"run_id": ')
    assert Spool(tmp_path).pending() == []
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_file_is_set_aside(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    good = _result()
    spool.spool(good)
    (tmp_path / "garbage.json").write_text("not json\n")
    assert spool.pending() == [good]
    assert (tmp_path / REJECTED_DIR / "garbage.json").read_text() == "not json\n"
