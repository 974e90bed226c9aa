"""``callprobe cluster up|down|status``: the production topology on this machine, without
containers: N API processes, M agents and the Caddy reverse proxy against one database
(``CALLPROBE_DATABASE_URL``, else the embedded cluster, as ``callprobe serve`` does).

``up`` starts what does not run yet (again: nothing), in order: the database and its
migrations, the APIs, the proxy, then (the first time) a project with the locations and
agents, whose tokens are kept in the state file, then the agents. ``down`` stops the
agents first (they hand back their runs and flush through the proxy), then the proxy,
then the APIs; the database keeps running (``callprobe db stop``). :func:`up` and
:class:`~api.cli.topology.Topology` are the Python API fault tests and benches drive.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.table import Table

from api.cli.caddyfile import caddyfile
from api.cli.cluster_plan import ClusterSpec, agent_name, members, parse_agents, token_file
from api.cli.terminal import console, fail
from api.cli.topology import MemberFailed, Topology, ready
from api.routes.projects import create_project_with_key
from api.settings import Settings, get_settings
from store import cluster
from store.migrate import migrate_database
from store.pool import transaction

cluster_app = typer.Typer(
    no_args_is_help=True, help="API processes, agents and the proxy on this machine."
)


def cluster_root(settings: Settings) -> Path:
    """Where the topology keeps its state, logs, tokens and the proxy's files."""
    return settings.data_dir / "cluster"


def up(spec: ClusterSpec, settings: Settings) -> tuple[Topology, dict[str, bool]]:
    """Start what does not run; the topology and, per member, whether it was started now."""
    url = settings.database_url or cluster.start(settings.pg_root, settings.db_port)
    migrate_database(url)
    topology = Topology(cluster_root(settings))
    for member in members(spec, topology.root, url):
        previous = topology.state.members.get(member.name)
        member.pid = previous.pid if previous else None
        topology.state.members[member.name] = member
    topology.save()
    (topology.root / "Caddyfile").write_text(caddyfile(spec.proxy()))
    started = {m.name: topology.start(m.name) for m in list(topology.by_role("api"))}
    started["proxy"] = topology.start("proxy")
    _provision(topology, spec, url)
    started |= {m.name: topology.start(m.name) for m in list(topology.by_role("agent"))}
    return topology, started


def _provision(topology: Topology, spec: ClusterSpec, url: str) -> None:
    """A project, its locations and agents (through the proxy), for agents without a token."""
    state = topology.state
    wanted = [(loc, agent_name(loc, n)) for loc, count in spec.agents.items() for n in range(count)]
    missing = [(loc, name) for loc, name in wanted if name not in state.tokens]
    if not missing:
        return
    if not state.project:
        project_id, key = asyncio.run(_create_project(url))
        state.project = {"id": project_id, "key": key}
    auth = {"Authorization": f"Bearer {state.project['key']}"}
    with httpx.Client(base_url=spec.proxy_url, headers=auth, timeout=15) as client:
        for location in {loc for loc, _ in missing}:
            made = client.post("/v1/locations", json={"name": location})
            if made.status_code != 409:
                made.raise_for_status()
        for location, name in missing:
            made = client.post("/v1/agents", json={"name": name, "location": location})
            made.raise_for_status()
            state.tokens[name] = made.json()["token"]
    topology.save()
    for name, token in state.tokens.items():
        path = token_file(topology.root, name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600)
        path.write_text(token)


async def _create_project(url: str) -> tuple[str, str]:
    async with transaction(url) as conn:
        project, _, token = await create_project_with_key(conn, "cluster")
    return str(project.id), token


@cluster_app.command("up")
def up_command(
    *,
    apis: Annotated[int, typer.Option(help="API processes", min=1, max=10)] = 2,
    pages: Annotated[
        int, typer.Option(help="Processes serving only the public pages", min=0, max=10)
    ] = 0,
    agents: Annotated[str, typer.Option(help="Agents per location, e.g. ams:2,fra:1")] = "local:1",
    calls: Annotated[bool, typer.Option(help="Agents start call engines (sip_call)")] = True,
    api_port: Annotated[int, typer.Option(help="First API port; the others follow")] = 18400,
    http_port: Annotated[int, typer.Option(help="The proxy's plain-HTTP port")] = 18480,
    https_port: Annotated[int, typer.Option(help="The proxy's HTTPS port")] = 18443,
) -> None:
    """Start the API processes, the proxy and the agents (those not running yet)."""
    settings = get_settings()
    try:
        spec = ClusterSpec(
            apis=apis,
            pages=pages,
            agents=parse_agents(agents),
            calls=calls,
            api_port=api_port,
            http_port=http_port,
            https_port=https_port,
            engine_processes=settings.engine_processes + settings.wideband_processes,
            sip_port_base=settings.sip_port_base,
            rtp_port_base=settings.rtp_port_base,
        )
        topology, started = up(spec, settings)
    except (ValueError, MemberFailed, httpx.HTTPError) as exc:
        fail(str(exc))
    for name, now in started.items():
        member = topology.member(name)
        said = "started" if now else "already running"
        console.print(f"{name:<16} {said} (pid {member.pid})", highlight=False)
    console.print(f"proxy: {spec.proxy_url}  https://<verified custom domain>:{https_port}/")


@cluster_app.command("status")
def status_command() -> None:
    """Each member: running?, pid, port, and its /readyz answer (directly and through the
    proxy)."""
    topology = Topology(cluster_root(get_settings()))
    if not topology.state.members:
        fail("no cluster here: run `callprobe cluster up`")
    table = Table("member", "running", "pid", "port", "/readyz")
    for member in topology.state.members.values():
        answer = ready(member.ready_url) if member.ready_url else None
        running = topology.alive(member.name)
        shown = "-" if member.ready_url is None else str(answer or "no answer")
        port = str(member.port or "-")
        table.add_row(member.name, "yes" if running else "no", str(member.pid), port, shown)
    console.print(table)


@cluster_app.command("down")
def down_command() -> None:
    """Stop the agents, then the proxy, then the APIs (SIGTERM; SIGKILL after a bound)."""
    topology = Topology(cluster_root(get_settings()))
    stopped = topology.stop_all()
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    console.print("the database keeps running (`callprobe db stop` stops the embedded one)")
