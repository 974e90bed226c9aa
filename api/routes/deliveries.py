"""The delivery log of the caller's project: each notice per channel with its attempts,
and redelivery of one that died (or was delivered and is wanted again).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.schemas.channels import AttemptOut, DeliveryDetail, DeliveryOut, DeliveryState
from api.schemas.common import BIGINT_MAX
from api.security.auth import Reader, Writer
from api.services import audit
from api.state import State
from store import channels, deliveries
from store.deliveries import AttemptRow, DeliveryRow
from store.pool import AsyncConn

router = APIRouter(tags=["notification deliveries"])

ON_ITS_WAY = "this delivery is still on its way (pending or sending): redeliver it once it is dead"


@router.get("/v1/channels/{channel_id}/deliveries", response_model=list[DeliveryOut])
async def channel_deliveries(
    *,
    channel_id: uuid.UUID,
    principal: Reader,
    st: State,
    state: DeliveryState | None = None,
    before: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="A seq: older ones only")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryDetail]:
    """A channel's deliveries, newest first, each with its attempts; page back with
    ``before`` set to the last ``seq`` seen."""
    async with st.transaction() as conn:
        await channels.get_channel(conn, principal.project_id, channel_id)
        rows = await deliveries.list_deliveries(
            conn, principal.project_id, channel_id, state=state, before=before, limit=limit
        )
        return await _with_attempts(conn, rows)


@router.get("/v1/deliveries/{delivery_id}", response_model=DeliveryDetail)
async def get_delivery(delivery_id: uuid.UUID, principal: Reader, st: State) -> DeliveryDetail:
    """One delivery with its attempts and the document it sends."""
    async with st.transaction() as conn:
        row = await deliveries.get_delivery(conn, principal.project_id, delivery_id)
        return (await _with_attempts(conn, [row]))[0]


@router.post(
    "/v1/deliveries/{delivery_id}/redeliver", status_code=202, response_model=DeliveryDetail
)
async def redeliver(delivery_id: uuid.UUID, principal: Writer, st: State) -> DeliveryDetail:
    """Queue a dead or delivered notice again, with a new round of attempts and the same
    idempotency key (409 while it is still on its way)."""
    async with st.transaction() as conn:
        queued = await deliveries.redeliver(conn, principal.project_id, delivery_id)
        row = await deliveries.get_delivery(conn, principal.project_id, delivery_id)
        if not queued:
            raise HTTPException(409, ON_ITS_WAY)
        await audit.record(
            conn, principal, "redeliver", "delivery", delivery_id,
            after={"channel_id": str(row.channel_id), "kind": row.kind},
        )  # fmt: skip
        return (await _with_attempts(conn, [row]))[0]


async def _with_attempts(conn: AsyncConn, rows: Sequence[DeliveryRow]) -> list[DeliveryDetail]:
    by_delivery: dict[uuid.UUID, list[AttemptRow]] = defaultdict(list)
    for attempt in await deliveries.attempts_of(conn, [row.id for row in rows]):
        by_delivery[attempt.delivery_id].append(attempt)
    return [
        DeliveryDetail.model_validate(
            {
                **dataclasses.asdict(row),
                "attempts": [
                    AttemptOut.model_validate(dataclasses.asdict(a)) for a in by_delivery[row.id]
                ],
            }
        )
        for row in rows
    ]
