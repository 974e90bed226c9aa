"""How the fault tests and ``bench/fault_run.py`` start, kill and restart the platform's
members: a pluggable topology.

:class:`Processes` runs every member as a local process (``callprobe serve`` and
``callprobe agent --no-calls`` through ``bench/platform_harness.py``, the embedded
TimescaleDB through ``store.cluster``), each agent talking to one API directly: no
proxy, so an agent whose API dies spools until it returns (the path a proxy hides).
``bench/fault_cluster.py`` (``callprobe cluster``: the proxy in front, agents through it)
and ``bench/fault_compose.py`` (the podman compose topology, containers killed and
restarted) offer the same methods.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bench import platform_harness as harness
from bench.tcp_relay import Relay
from store import cluster


class Topology(Protocol):
    """What a fault run does to the platform."""

    @property
    def entry(self) -> str:
        """The base URL clients use (the project's setup, the watcher): the proxy, or
        an API that is never killed where there is no proxy."""

    def start(self) -> None:
        """Start both APIs (and the proxy) and wait until they answer."""

    def setup(
        self,
        probes: int,
        interval_s: int,
        *,
        black_hole_every: int,
        policy: dict[str, Any] | None = None,
    ) -> harness.World:
        """The project the agents serve: locations ams and fra, two agents each, and
        ``probes`` TCP probes at targets the agents reach (every ``black_hole_every``-th
        at a black hole, where a connect hangs until the probe's 2 s timeout)."""

    def start_api(self, n: int) -> None:
        """Start API ``n`` (0 or 1) and wait until it answers."""

    def kill_api(self, n: int) -> None:
        """Kill API ``n`` at once (SIGKILL: no drain, requests cut mid-way)."""

    def start_agent(
        self,
        world: harness.World,
        location: str,
        n: int,
        *,
        cuttable: bool = False,
        skew: str | None = None,
    ) -> None:
        """Start the location's ``n``-th agent (``cuttable``: so that :meth:`cut` can
        cut it off; ``skew``: its clock's offset for faketime, such as ``+30s``)."""

    def cut(self, location: str, n: int) -> None:
        """Cut a cuttable agent off from the API (resets and refusals, as a network cut)."""

    def restore(self, location: str, n: int) -> None:
        """Connect it again."""

    def stop_database(self) -> None:
        """Stop PostgreSQL (fast shutdown: connections are cut)."""

    def start_database(self) -> None:
        """Start PostgreSQL again."""

    def stop_proxy(self) -> bool:
        """Stop the proxy (gracefully); False when the topology has none."""

    def start_proxy(self) -> None:
        """Start the proxy again and wait until it answers."""

    def stop(self) -> None:
        """Stop the agents (gracefully: they drain and post), then the proxy and the
        APIs; the database keeps running for the count."""


def faketime(skew: str | None) -> tuple[str, ...]:
    """The command prefix that runs a process with its clock ``skew`` off."""
    return ("faketime", "-f", skew) if skew else ()


@dataclass
class Links:
    """Cuttable relays (``bench/tcp_relay.py``) in front of agents, by agent."""

    relays: dict[tuple[str, int], Relay] = field(default_factory=dict)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def open(self, agent: tuple[str, int], target: int) -> int:
        """A relay to ``target`` for ``agent``; the port the agent connects to."""
        relay = self.stack.enter_context(Relay(target))
        self.relays[agent] = relay
        return relay.port

    def close(self) -> None:
        """Close every relay."""
        self.stack.close()
        self.relays.clear()


def setup_local(
    entry: str,
    targets: tuple[int, str],
    probes: int,
    interval_s: int,
    *,
    black_hole_every: int,
    policy: dict[str, Any] | None,
) -> harness.World:
    """The project through ``entry``, its probes at this machine's accepting port and black
    hole (``targets``): what every topology whose agents run here sets up."""
    port, hole = targets
    return harness.setup(entry, port, probes, interval_s, black_hole_every=black_hole_every,
                         black_hole=hole, policy=policy)  # fmt: skip


@dataclass
class Processes:
    """Every member a local process; the database a cluster under ``root`` on ``port``;
    ``targets``: the probes' accepting TCP port and black hole (``host:port``)."""

    root: Path
    port: int
    environ: dict[str, str]
    tmp: Path
    api_ports: tuple[int, int]
    targets: tuple[int, str]
    apis: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    agents: list[subprocess.Popen[bytes]] = field(default_factory=list)
    links: Links = field(default_factory=Links)

    @property
    def entry(self) -> str:
        """API 2: the one no fault kills."""
        return f"http://127.0.0.1:{self.api_ports[1]}"

    def start(self) -> None:
        self.start_api(0)
        self.start_api(1)

    def setup(
        self,
        probes: int,
        interval_s: int,
        *,
        black_hole_every: int,
        policy: dict[str, Any] | None = None,
    ) -> harness.World:
        return setup_local(self.entry, self.targets, probes, interval_s,
                           black_hole_every=black_hole_every, policy=policy)  # fmt: skip

    def start_api(self, n: int) -> None:
        self.apis[n] = harness.serve(self.api_ports[n], self.environ)

    def kill_api(self, n: int) -> None:
        harness.stop(self.apis.pop(n), signal.SIGKILL)

    def start_agent(
        self,
        world: harness.World,
        location: str,
        n: int,
        *,
        cuttable: bool = False,
        skew: str | None = None,
    ) -> None:
        """The agent talks to API ``n``, through a relay when ``cuttable``."""
        port = self.api_ports[n]
        if cuttable:
            port = self.links.open((location, n), port)
        proc = harness.agent(
            world, location, n, (port, port), self.environ, self.tmp, prefix=faketime(skew)
        )
        self.agents.append(proc)

    def cut(self, location: str, n: int) -> None:
        self.links.relays[location, n].cut()

    def restore(self, location: str, n: int) -> None:
        self.links.relays[location, n].restore()

    def stop_database(self) -> None:
        cluster.stop(self.root)

    def start_database(self) -> None:
        cluster.start(self.root, self.port)

    def stop_proxy(self) -> bool:
        return False

    def start_proxy(self) -> None:
        """There is no proxy."""

    def stop(self) -> None:
        for proc in self.agents:
            harness.stop(proc)
        self.agents.clear()
        for proc in self.apis.values():
            harness.stop(proc)
        self.apis.clear()
        self.links.close()
