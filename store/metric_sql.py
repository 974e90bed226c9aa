"""SQL expressions of a call result's headline metrics over ``call_results`` columns,
as ``psycopg.sql`` fragments.

One definition for every query that derives them (the hourly rollup, the short chart
buckets read from raw results), so a chart never disagrees with the rollup.
"""

from __future__ import annotations

from typing import Final

from psycopg import sql

MOS: Final = sql.SQL("coalesce(pesq_mos, emodel_mos)")
"""A call's MOS: its PESQ score where it was scored, else its E-model estimate."""

LOSS_PCT: Final = sql.SQL("greatest(rx_loss_pct, tx_loss_pct)")
"""A call's packet loss: the worse of its two directions."""
