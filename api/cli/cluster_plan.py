"""What ``callprobe cluster up`` runs: N API processes on consecutive ports (then P that
serve only the public pages), Caddy in front of them, M agents talking to the API through
Caddy, all against one database.

Pure but for the paths it names: the command lines, environments, ports and log files
of every member, and the proxy's Caddyfile. Files live under the cluster's root
(``<data dir>/cluster``): ``logs/``, ``tokens/`` (one agent token a file, 0600),
``spool/`` (one spool an agent), ``Caddyfile`` and ``caddy/`` (Caddy's storage: its
local CA and the certificates it issued).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from api.cli.caddyfile import ProxyConfig
from api.cli.topology import Member

RTP_PORTS_PER_ENGINE = 200
_QUIET = ("--log-level", "warning")
"""No access log: the agents' polling would fill it (warnings and errors remain)."""


PAGES_ONLY = {"CALLPROBE_JUDGING": "false", "CALLPROBE_NOTIFY_DISPATCH": "false"}
"""What a page process adds to an API's environment: it neither judges nor notifies."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ClusterSpec:
    """The topology's shape and ports."""

    apis: int = 2
    pages: int = 0
    """Processes that serve only the public pages (no judging, no notifications); the
    proxy sends ``/s/`` and ``/static/`` to them. None: the APIs serve the pages."""
    agents: dict[str, int] = field(default_factory=lambda: {"local": 1})
    """Agents per location."""
    calls: bool = True
    api_port: int = 18400
    """The first API process's port; the others follow."""
    http_port: int = 18480
    https_port: int = 18443
    host: str = "127.0.0.1"
    engine_processes: int = 2
    """Call engine processes of one agent (narrow- and wideband), for its port ranges."""
    sip_port_base: int = 5160
    rtp_port_base: int = 40000

    @property
    def proxy_url(self) -> str:
        """Where the proxy answers plain HTTP (the agents' API URL)."""
        return f"http://{self.host}:{self.http_port}"

    def proxy(self) -> ProxyConfig:
        """The proxy's configuration for this topology."""
        upstreams = [f"{self.host}:{self.api_port + n}" for n in range(self.apis + self.pages)]
        return ProxyConfig(
            upstreams=upstreams[: self.apis],
            page_upstreams=upstreams[self.apis :],
            http_port=self.http_port,
            https_port=self.https_port,
            bind=self.host,
        )


def parse_agents(text: str) -> dict[str, int]:
    """``"ams:2,fra:1"`` -> ``{"ams": 2, "fra": 1}`` (a bare location means one agent)."""
    agents: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        location, _, count = part.partition(":")
        if not location or (count and not count.isdigit()):
            raise ValueError(f"{part!r}: expected LOCATION or LOCATION:COUNT")
        agents[location] = int(count or 1)
    return agents


def members(spec: ClusterSpec, root: Path, database_url: str) -> list[Member]:
    """Every member in start order: the APIs and page processes, the proxy, the agents."""
    return [
        *(_api(spec, root, database_url, n) for n in range(spec.apis + spec.pages)),
        _proxy(spec, root),
        *(
            _agent(spec, root, location, n, index)
            for index, (location, n) in enumerate(_agent_slots(spec))
        ),
    ]


def _agent_slots(spec: ClusterSpec) -> list[tuple[str, int]]:
    return [(location, n) for location, count in spec.agents.items() for n in range(count)]


def agent_name(location: str, n: int) -> str:
    """The ``n``-th agent of ``location``: ``agent-ams-0``."""
    return f"agent-{location}-{n}"


def _callprobe(*args: str) -> list[str]:
    return [sys.executable, "-m", "api", *args]


def _api(spec: ClusterSpec, root: Path, database_url: str, n: int) -> Member:
    """The ``n``-th API process; those past ``spec.apis`` serve the pages alone."""
    port = spec.api_port + n
    name = f"api-{n + 1}" if n < spec.apis else f"pages-{n - spec.apis + 1}"
    env = {
        "CALLPROBE_DATABASE_URL": database_url,
        # Client addresses (rate limits) come from X-Forwarded-For only when the proxy
        # sent it; the proxy reaches the APIs from the topology's host.
        "CALLPROBE_TRUSTED_PROXIES": f"{spec.host}/32",
        # /readyz says 503 this long before the process stops: the proxy's health check
        # (every second) moves traffic away first.
        "CALLPROBE_SHUTDOWN_DELAY_S": "2",
    }
    if "CALLPROBE_PUBLIC_URL" not in os.environ:
        env["CALLPROBE_PUBLIC_URL"] = spec.proxy_url
    if n >= spec.apis:
        env |= PAGES_ONLY
    return Member(
        name=name,
        role="api",
        argv=_callprobe("serve", "--host", spec.host, "--port", str(port), *_QUIET),
        env=env,
        log=str(root / "logs" / f"{name}.log"),
        port=port,
        ready_url=f"http://{spec.host}:{port}/readyz",
    )


def _proxy(spec: ClusterSpec, root: Path) -> Member:
    caddy = shutil.which("caddy") or "caddy"
    storage = root / "caddy"
    return Member(
        name="proxy",
        role="proxy",
        argv=[caddy, "run", "--config", str(root / "Caddyfile"), "--adapter", "caddyfile"],
        env={"XDG_DATA_HOME": str(storage / "data"), "XDG_CONFIG_HOME": str(storage / "config")},
        log=str(root / "logs" / "proxy.log"),
        port=spec.https_port,
        ready_url=f"{spec.proxy_url}/readyz",
    )


def caddy_root_ca(root: Path) -> Path:
    """The certificate of Caddy's local CA (``tls internal``): what clients trust."""
    return root / "caddy" / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"


def _agent(spec: ClusterSpec, root: Path, location: str, n: int, index: int) -> Member:
    name = agent_name(location, n)
    argv = _callprobe("agent", "--api", spec.proxy_url, "--location", location)
    argv += ["--token-file", str(token_file(root, name)), "--spool", str(root / "spool" / name)]
    env: dict[str, str] = {}
    if spec.calls:
        # Each agent's engine processes get SIP ports and RTP ranges of their own.
        offset = index * spec.engine_processes
        env["CALLPROBE_SIP_PORT_BASE"] = str(spec.sip_port_base + offset)
        env["CALLPROBE_RTP_PORT_BASE"] = str(spec.rtp_port_base + offset * RTP_PORTS_PER_ENGINE)
    else:
        argv.append("--no-calls")
    return Member(
        name=name, role="agent", argv=argv, env=env, log=str(root / "logs" / f"{name}.log")
    )


def token_file(root: Path, agent: str) -> Path:
    """Where an agent's token is kept (it never appears on a command line)."""
    return root / "tokens" / agent
