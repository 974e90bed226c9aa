"""The fault run's ``compose`` topology: docker/compose.yaml under podman, containers killed
and restarted instead of processes (through ``bench/compose_harness.py``).

The compose file's two agents serve its project ``compose``; the run adds its probes
there and a third agent, so that ams has two and fra one:

- ams-0 is compose's ``agent-ams``; it is cut off by disconnecting its container from
  the compose network (``podman network disconnect``/``connect``);
- ams-1 is a container of the same image on the compose network, enrolled through the
  proxy with the project's key, as ``docker/up-local.sh`` enrols the others;
- fra-0 is compose's ``agent-fra`` (its token, its spool volume) run from
  ``bench/faketime/Dockerfile``'s image when its clock is to be off: the production
  image carries no libfaketime, so its own container is stopped meanwhile.

Probes target ``api-2:8080`` (never killed) and a free address of the compose network
(no ARP answer: a connect hangs until the probe's timeout). The APIs and agents get the
run's short lease grace, poll and sweep through the variables compose.yaml reads, and the
agents run without call engines.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import compose_harness as compose
from bench import platform_harness as harness
from bench.fault_cluster import skewed

NETWORK = "callprobe_default"
IMAGE = os.environ.get("CALLPROBE_IMAGE", "localhost/callprobe:local")
FAKETIME_IMAGE = "localhost/callprobe-faketime:local"
FAKETIME_CONTEXT = Path(__file__).resolve().parent / "faketime"
EXTRA = "callprobe-fault"
"""Name prefix of the containers the run adds (removed on the way out)."""
STOP_S = 45
"""``podman stop`` waits this long before SIGKILL: an agent drains for up to 30 s."""
SERVICES = {("ams", 0): "agent-ams", ("fra", 0): "agent-fra"}
"""The run's agents that compose.yaml runs."""


def _environ() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(compose.STATE / "containers.conf")}


def podman(*args: str, timeout: float = 120) -> str:
    """Run podman with the containers.conf up-local.sh uses; its output (raises on error)."""
    command = ["podman", *args]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=_environ(), check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: {done.stderr[-1000:]}")
    return done.stdout


def container(service: str) -> str:
    """The container podman-compose names for ``service``."""
    return f"callprobe_{service}_1"


def _wait(check: Any, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout} s")
        time.sleep(0.5)


def black_hole() -> str:
    """The compose network's last host address (never assigned: podman counts up)."""
    subnet = json.loads(podman("network", "inspect", NETWORK))[0]["subnets"][0]["subnet"]
    return f"{ipaddress.ip_network(subnet).broadcast_address - 1}:9"


@dataclass
class ComposeTopology:
    """The compose topology, up; the agents the run started, by (location, n)."""

    agents: dict[tuple[str, int], str] = field(default_factory=dict)
    entry: str = compose.API

    def start(self) -> None:
        compose.wait_ready()

    def setup(
        self,
        probes: int,
        interval_s: int,
        *,
        black_hole_every: int,
        policy: dict[str, Any] | None = None,
    ) -> harness.World:
        """Compose's project with ams-1 enrolled, and the run's probes."""
        key = {"Authorization": f"Bearer {compose.secret('project_key')}"}
        with httpx.Client(base_url=self.entry, headers=key, timeout=30) as client:
            project = client.get("/v1/project").json()["id"]
            world = harness.World(project=project, key=key)
            listed = {a["name"]: a["id"] for a in client.get("/v1/agents").json()}
            for location in ("ams", "fra"):
                world.tokens[location] = [compose.secret(f"agent_{location}_token")]
                world.agent_ids[location] = [listed[f"agent-{location}"]]
            made = client.post("/v1/agents", json={"name": "agent-ams-1", "location": "ams"})
            made.raise_for_status()
        world.tokens["ams"].append(made.json()["token"])
        world.agent_ids["ams"].append(made.json()["id"])
        harness.add_probes(
            self.entry, key, "api-2:8080", probes, interval_s, black_hole_every,
            black_hole(), policy,
        )  # fmt: skip
        return world

    def start_api(self, n: int) -> None:
        service = f"api-{n + 1}"
        compose.act("start", service)
        _wait(lambda: compose.healthy(service), f"{service} healthy")

    def kill_api(self, n: int) -> None:
        compose.act("kill", f"api-{n + 1}")

    def start_agent(
        self,
        world: harness.World,
        location: str,
        n: int,
        *,
        cuttable: bool = False,
        skew: str | None = None,
    ) -> None:
        """Compose's own agent container, or one the run adds (any can be cut)."""
        service = SERVICES.get((location, n))
        if service and not skew:
            compose.act("start", service)
            self.agents[location, n] = container(service)
            return
        if service:
            podman("stop", "--time", str(STOP_S), container(service), timeout=STOP_S + 30)
        self.agents[location, n] = self._run_agent(world, location, n, skew)

    def _run_agent(self, world: harness.World, location: str, n: int, skew: str | None) -> str:
        name = f"{EXTRA}-{location}-{n}"
        token = compose.SECRETS / f"agent_{location}_{n}_token"
        token.write_text(world.tokens[location][n])
        token.chmod(0o644)  # the container's user (10001) reads the mounted file
        options = ["--name", name, "--network", NETWORK, "--memory", "512m", "--cpus", "1"]
        options += ["-v", f"{token}:/run/secrets/agent_token:ro"]
        options += ["-e", "CALLPROBE_AGENT_POLL_S=0.5"]
        if (location, n) in SERVICES:  # the service's spool goes with its identity
            options += ["-v", f"callprobe_{SERVICES[location, n]}-spool:/var/lib/callprobe"]
        for variable, value in skewed(skew).items() if skew else ():
            options += ["-e", f"{variable}={value}"]
        command = ["agent", "--api", "http://proxy:8080", "--location", location]
        command += ["--token-file", "/run/secrets/agent_token", "--allow-insecure-http"]
        podman("run", "-d", *options, FAKETIME_IMAGE if skew else IMAGE, *command, "--no-calls")
        return name

    def cut(self, location: str, n: int) -> None:
        podman("network", "disconnect", NETWORK, self.agents[location, n])

    def restore(self, location: str, n: int) -> None:
        podman("network", "connect", NETWORK, self.agents[location, n])

    def stop_database(self) -> None:
        """PostgreSQL's fast shutdown. ``podman stop`` alone sends SIGTERM, its smart
        shutdown, which waits for the APIs' pooled connections to close (never: SIGKILL
        after the bound); SIGINT alone is an exit the restart policy undoes at once. So:
        ``podman stop`` (marks the container stopped), then SIGINT during its wait."""
        db = container("db")
        stopping = subprocess.Popen(
            ["podman", "stop", "--time", "30", db],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_environ(),
        )
        time.sleep(0.5)
        with contextlib.suppress(RuntimeError):  # already gone
            podman("kill", "--signal", "INT", db)
        stopping.wait(60)
        _wait(lambda: compose.state("db") == "exited", "the database stopped")

    def start_database(self) -> None:
        compose.act("start", "db")
        _wait(lambda: compose.healthy("db"), "the database healthy")

    def stop_proxy(self) -> bool:
        compose.act("stop", "proxy")
        return True

    def start_proxy(self) -> None:
        compose.act("start", "proxy")
        compose.wait_ready()

    def stop(self) -> None:
        """The agents (``podman stop`` in parallel, SIGTERM: they drain and flush), then
        the proxy and the APIs."""
        if self.agents:
            podman("stop", "--time", str(STOP_S), *self.agents.values(), timeout=STOP_S + 60)
        podman("stop", *map(container, ("proxy", "api-1", "api-2")))


FAST = {
    "CALLPROBE_LEASE_GRACE_S": "2",
    "CALLPROBE_SWEEP_INTERVAL_S": "5",
    "CALLPROBE_AGENT_POLL_S": "0.5",
    "CALLPROBE_AGENT_CALLS": "--no-calls",
}
"""What compose.yaml reads from ``up-local.sh``'s environment: the settings
``bench/platform_harness.py`` gives local processes, agents without call engines."""


def _ensure_faketime_image() -> None:
    try:
        podman("image", "exists", FAKETIME_IMAGE)
    except RuntimeError:
        podman("build", "--format", "docker", "--network", "host", "-t", FAKETIME_IMAGE,
               "--build-arg", f"BASE={IMAGE}", str(FAKETIME_CONTEXT), timeout=900)  # fmt: skip


@contextlib.contextmanager
def compose_topology(tmp: Path) -> Iterator[tuple[ComposeTopology, str]]:
    """The compose topology from scratch (``up-local.sh down`` then ``up``); the added
    containers removed and the topology taken down on the way out. ``tmp`` is unused."""
    _ensure_faketime_image()
    os.environ.update(FAST)
    compose.down()
    try:
        compose.up()
        yield ComposeTopology(), compose.db_url()
    finally:
        with contextlib.suppress(RuntimeError):
            names = podman("ps", "-aq", "--filter", f"name=^{EXTRA}-").split()
            if names:
                podman("rm", "-f", *names)
        compose.down()
