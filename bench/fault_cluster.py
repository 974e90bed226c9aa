"""The fault run's ``cluster`` topology: ``callprobe cluster``'s own members, supervised by
its own code, on a database of the run's own.

The members come from :func:`api.cli.cluster_plan.members` (two ``callprobe serve``,
Caddy with :func:`api.cli.caddyfile.caddyfile`'s configuration, agents with
``--no-calls``) and run under :class:`api.cli.topology.Topology` (start, SIGKILL, stop by
name), exactly as ``callprobe cluster up`` runs them. Every agent talks to the API through
the proxy; a cuttable one through a relay in front of the proxy. The run's settings
(short lease grace, poll and sweep; its admin token) are added to each member's
environment, and a skewed agent gets libfaketime through ``LD_PRELOAD`` (no wrapper
process between the supervisor and the agent it signals).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.cli.caddyfile import caddyfile
from api.cli.cluster_plan import ClusterSpec, agent_name, members, token_file
from api.cli.topology import Topology as Members
from bench import platform_harness as harness
from bench.fault_topology import Links, setup_local
from store import cluster, migrate, pool

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
"""Debian's libfaketime (package ``libfaketime``, which ``faketime`` depends on)."""


def skewed(skew: str) -> dict[str, str]:
    """The environment that runs a process with its clock ``skew`` off (``+30s``)."""
    return {"LD_PRELOAD": LIBFAKETIME, "FAKETIME": skew}


@dataclass
class ClusterTopology:
    """The members under ``members.root``; the database a cluster under ``db_root``."""

    members: Members
    spec: ClusterSpec
    db_root: Path
    db_port: int
    targets: tuple[int, str]
    links: Links = field(default_factory=Links)

    @property
    def entry(self) -> str:
        """The proxy."""
        return self.spec.proxy_url

    def start(self) -> None:
        for name in ("api-1", "api-2", "proxy"):
            self.members.start(name)

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
        self.members.start(f"api-{n + 1}")

    def kill_api(self, n: int) -> None:
        self.members.kill(f"api-{n + 1}")

    def start_agent(
        self,
        world: harness.World,
        location: str,
        n: int,
        *,
        cuttable: bool = False,
        skew: str | None = None,
    ) -> None:
        """The agent ``agent-<location>-<n>`` with the world's token, through the proxy."""
        name = agent_name(location, n)
        member = self.members.member(name)
        path = token_file(self.members.root, name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)
        path.write_text(world.tokens[location][n])
        if cuttable:
            port = self.links.open((location, n), self.spec.http_port)
            member.argv[member.argv.index("--api") + 1] = f"http://127.0.0.1:{port}"
        if skew:
            member.env |= skewed(skew)
        self.members.save()
        self.members.start(name)

    def cut(self, location: str, n: int) -> None:
        self.links.relays[location, n].cut()

    def restore(self, location: str, n: int) -> None:
        self.links.relays[location, n].restore()

    def stop_database(self) -> None:
        cluster.stop(self.db_root)

    def start_database(self) -> None:
        cluster.start(self.db_root, self.db_port)

    def stop_proxy(self) -> bool:
        self.members.stop("proxy")
        return True

    def start_proxy(self) -> None:
        self.members.start("proxy")

    def stop(self) -> None:
        """``callprobe cluster down``'s order: agents, the proxy, the APIs."""
        self.members.stop_all()
        self.links.close()


def planned(
    root: Path,
    spec: ClusterSpec,
    environ: dict[str, str],
    database: tuple[Path, int, str],
    targets: tuple[int, str],
) -> ClusterTopology:
    """The topology planned under ``root`` (left over members of an earlier run there are
    stopped first): ``spec``'s members with the run's ``CALLPROBE_*`` settings from
    ``environ``, on ``database`` (its root, port and URL)."""
    Members(root).stop_all()
    shutil.rmtree(root, ignore_errors=True)
    db_root, db_port, url = database
    plan = Members(root)
    settings = {k: v for k, v in environ.items() if k.startswith("CALLPROBE_")}
    for member in members(spec, root, url):
        member.env = settings | member.env
        plan.state.members[member.name] = member
    plan.save()
    (root / "Caddyfile").write_text(caddyfile(spec.proxy()))
    return ClusterTopology(plan, spec, db_root, db_port, targets)


DB_PORT = 25520
SPEC = ClusterSpec(
    apis=2,
    agents={location: 2 for location in harness.LOCATIONS},
    calls=False,
    api_port=18520,
    http_port=18530,
    https_port=18531,
)


@contextlib.contextmanager
def cluster_topology(tmp: Path) -> Iterator[tuple[ClusterTopology, str]]:
    """The fault run's topology on a fresh cluster (``.var/pg-bench-faults-cluster``);
    every member and the database are stopped on the way out."""
    db_root = cluster.default_root("pg-bench-faults-cluster")
    cluster.stop(db_root)
    shutil.rmtree(db_root, ignore_errors=True)
    url = cluster.start(db_root, DB_PORT)
    with pool.connect(url) as conn:
        migrate.migrate(conn)
    root = db_root.parent / "bench-faults-cluster"
    try:
        with harness.listening() as port, harness.black_hole() as hole:
            environ = harness.env(url, tmp)
            topology = planned(root, SPEC, environ, (db_root, DB_PORT, url), (port, hole))
            try:
                yield topology, url
            finally:
                topology.stop()
    finally:
        cluster.stop(db_root)
