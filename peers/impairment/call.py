"""One relayed call: its dialog state, its four media sockets and its two media paths."""

from __future__ import annotations

import asyncio

from peers.impairment.config import Impairment, RelayConfig
from peers.impairment.dialog import Dialog
from peers.impairment.media_path import MediaPath
from peers.impairment.media_ports import PortBinder
from peers.impairment.sip_headers import Address
from peers.impairment.stats import CallStats
from probes.sip.sdp import MediaEndpoint


class Call:
    """Caller ⇄ caller-facing ports ⇄ (impairment) ⇄ callee-facing ports ⇄ callee.

    Each direction's RNGs are seeded from (seed, ordinal, direction, stream),
    so the n-th call of a run gets the same impairment pattern in every run.
    """

    def __init__(
        self,
        *,
        call_id: str,
        ordinal: int,
        client: Address,
        config: RelayConfig,
        binder: PortBinder,
    ) -> None:
        self.call_id = call_id
        self.ordinal = ordinal
        self.dialog = Dialog(client=client)
        self._loop = asyncio.get_running_loop()
        self.last_activity = self._loop.time()
        seed = f"{config.seed}:{ordinal}"
        self.to_target = _path(config, config.to_target, f"{seed}:to_target")
        self.to_client = _path(config, config.to_client, f"{seed}:to_client")
        self._binder = binder
        self.caller_side = binder.bind(self._from_caller)
        try:
            self.callee_side = binder.bind(self._from_callee)
        except BaseException:
            binder.unbind(self.caller_side)
            raise

    def touch(self) -> None:
        """Note activity (SIP or media), for the idle timeout."""
        self.last_activity = self._loop.time()

    def learn_media(self, media: MediaEndpoint, *, from_target: bool) -> None:
        """An SDP tells where its sender wants to receive: the path towards it."""
        path = self.to_target if from_target else self.to_client
        path.destination = media

    def port_for_receiver(self, *, from_target: bool) -> int:
        """The relay RTP port that the receiver of a message from this side must send to."""
        return (self.caller_side if from_target else self.callee_side).base

    def close(self) -> CallStats:
        """Send what is still delayed, release the ports, and return the final counts."""
        for path in (self.to_target, self.to_client):
            path.flush()
        for pair in (self.caller_side, self.callee_side):
            self._binder.unbind(pair)
        return self.snapshot(active=False)

    def snapshot(self, *, active: bool = True) -> CallStats:
        """Frozen counts of both directions."""
        return CallStats(
            call_id=self.call_id,
            ordinal=self.ordinal,
            active=active,
            caller_facing_port=self.caller_side.base,
            callee_facing_port=self.callee_side.base,
            to_target=self.to_target.snapshot(),
            to_client=self.to_client.snapshot(),
        )

    def _from_caller(self, datagram: bytes, rtcp_port: bool) -> None:
        """Caller → relay → callee."""
        self.touch()
        self.to_target.forward(datagram, out=self.callee_side.pick(rtcp_port), rtcp_port=rtcp_port)

    def _from_callee(self, datagram: bytes, rtcp_port: bool) -> None:
        """Callee → relay → caller."""
        self.touch()
        self.to_client.forward(datagram, out=self.caller_side.pick(rtcp_port), rtcp_port=rtcp_port)


def _path(config: RelayConfig, impairment: Impairment, seed: str) -> MediaPath:
    """A direction's path; its RTCP is impaired alike only if the config says so."""
    rtcp = impairment if config.impair_rtcp else Impairment()
    return MediaPath(rtp=impairment, rtcp=rtcp, seed=seed)
