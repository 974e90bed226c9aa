"""The cluster's pure parts: the Caddyfile (adapted by the real Caddy to its JSON, so a
syntax Caddy 2.6 refuses fails here) and the ``--agents`` notation."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.cli.caddyfile import ASK_PATH, FAIL_S, ProxyConfig, caddyfile
from api.cli.cluster_plan import ClusterSpec, members, parse_agents
from api.errors import RETRY_AFTER_S

CADDY = shutil.which("caddy")


def _adapted(config: ProxyConfig, tmp_path: Path) -> dict[str, Any]:
    assert CADDY is not None
    path = tmp_path / "Caddyfile"
    path.write_text(caddyfile(config))
    done = subprocess.run(
        [CADDY, "adapt", "--config", str(path), "--adapter", "caddyfile"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    adapted: dict[str, Any] = json.loads(done.stdout)
    return adapted


@pytest.mark.skipif(CADDY is None, reason="caddy is not installed (scripts/bootstrap.sh)")
def test_caddy_reads_the_caddyfile_as_meant(tmp_path: Path) -> None:
    config = ProxyConfig(upstreams=["127.0.0.1:18400", "127.0.0.1:18401"], http_port=18480,
                         https_port=18443, bind="127.0.0.1")  # fmt: skip
    adapted = _adapted(config, tmp_path)
    servers = adapted["apps"]["http"]["servers"].values()
    assert sorted(a for s in servers for a in s["listen"]) == [
        "127.0.0.1:18443", "127.0.0.1:18480",
    ]  # fmt: skip
    proxy = next(iter(servers))["routes"][-1]["handle"][0]
    assert [u["dial"] for u in proxy["upstreams"]] == list(config.upstreams)
    assert proxy["health_checks"]["active"]["uri"] == "/readyz"
    assert proxy["load_balancing"]["try_duration"] == 5_000_000_000
    # Idle upstream connections close before uvicorn's own 5 s keep-alive timeout does.
    assert proxy["transport"]["keep_alive"]["idle_timeout"] == 3_000_000_000
    tls = adapted["apps"]["tls"]["automation"]
    assert tls["on_demand"]["ask"] == f"http://127.0.0.1:18480{ASK_PATH}"
    assert tls["policies"] == [{"issuers": [{"module": "internal"}], "on_demand": True}]
    assert adapted["admin"] == {"disabled": True}


@pytest.mark.skipif(CADDY is None, reason="caddy is not installed (scripts/bootstrap.sh)")
def test_production_drops_one_line_for_acme(tmp_path: Path) -> None:
    internal = caddyfile(ProxyConfig(upstreams=["api:8080"])).splitlines()
    acme = caddyfile(ProxyConfig(upstreams=["api:8080"], internal_issuer=False)).splitlines()
    assert [line for line in internal if line not in acme] == ["\t\tissuer internal"]
    policy = _adapted(ProxyConfig(upstreams=["api:8080"], internal_issuer=False), tmp_path)
    assert policy["apps"]["tls"]["automation"]["policies"] == [{"on_demand": True}]


def test_a_proxy_needs_an_upstream() -> None:
    with pytest.raises(ValueError, match="upstream"):
        caddyfile(ProxyConfig(upstreams=[]))


@pytest.mark.parametrize(
    ("text", "agents"),
    [("ams:2,fra:1", {"ams": 2, "fra": 1}), ("local", {"local": 1}), (" a:3 , ", {"a": 3})],
)
def test_agents_per_location(text: str, agents: dict[str, int]) -> None:
    assert parse_agents(text) == agents


@pytest.mark.parametrize("text", [":2", "ams:two", "ams:-1"])
def test_bad_agent_lists_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="LOCATION"):
        parse_agents(text)


@pytest.mark.skipif(CADDY is None, reason="caddy is not installed (scripts/bootstrap.sh)")
def test_with_no_replica_ready_the_proxy_answers_503_with_retry_after(tmp_path: Path) -> None:
    """A real Caddy whose one upstream never answers (as when every replica's /readyz says
    503 while the database restarts): the client gets the API's error shape and a pause."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    config = ProxyConfig(upstreams=[f"127.0.0.1:{dead}"], http_port=18496, https_port=18497,
                         bind="127.0.0.1", try_duration_s=0.5)  # fmt: skip
    with _running(config, tmp_path):
        answer = _first_answer("POST", "http://127.0.0.1:18496/v1/agent/lease")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == str(RETRY_AFTER_S)
    assert answer.json()["error"]["code"] == "unavailable"


@contextmanager
def _running(config: ProxyConfig, tmp_path: Path) -> Iterator[None]:
    """A real Caddy running ``config`` (its storage under ``tmp_path``) while in the block."""
    assert CADDY is not None
    path = tmp_path / "Caddyfile"
    path.write_text(caddyfile(config))
    environ = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    caddy = subprocess.Popen([CADDY, "run", "--config", str(path), "--adapter", "caddyfile"],
                             env=environ, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        yield
    finally:
        caddy.terminate()
        caddy.wait(10)


def _first_answer(method: str, url: str) -> httpx.Response:
    """The first answer once Caddy listens."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return httpx.request(method, url, timeout=5)
        except httpx.TransportError:
            assert time.monotonic() < deadline, "caddy never answered"
            time.sleep(0.1)


@contextmanager
def _named_server(name: str, *, deaf_s: float = 0.0) -> Iterator[str]:
    """A local HTTP server that answers every GET with its own name (``/readyz`` too);
    ``deaf_s``: for that long after the first ``/v1/`` request, those get no answer (the
    connection closes)."""
    deaf_until: list[float] = []

    class Named(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if deaf_s and self.path.startswith("/v1/"):
                deaf_until[:] = deaf_until or [time.monotonic() + deaf_s]
                if time.monotonic() < deaf_until[0]:
                    self.close_connection = True
                    return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(name.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Named)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(CADDY is None, reason="caddy is not installed (scripts/bootstrap.sh)")
def test_page_processes_get_the_pages_and_the_apis_the_rest(tmp_path: Path) -> None:
    """A real Caddy in front of an "api" and a "pages" upstream."""
    with _named_server("api") as api, _named_server("pages") as pages:
        config = ProxyConfig(upstreams=[api], page_upstreams=[pages], http_port=18494,
                             https_port=18495, bind="127.0.0.1")  # fmt: skip
        with _running(config, tmp_path):
            served = {
                url: _first_answer("GET", f"http://127.0.0.1:18494{url}").text
                for url in ("/s/voice", "/s/voice/wall", "/static/page.css", "/v1/probes",
                            "/readyz", "/console/", "/")
            }  # fmt: skip
    assert served == {
        "/s/voice": "pages", "/s/voice/wall": "pages", "/static/page.css": "pages",
        "/v1/probes": "api", "/readyz": "api", "/console/": "api", "/": "api",
    }  # fmt: skip


@pytest.mark.skipif(CADDY is None, reason="caddy is not installed (scripts/bootstrap.sh)")
def test_a_hiccup_of_the_last_replica_standing_is_retried_through(tmp_path: Path) -> None:
    """A real Caddy with one API dead and the other dropping requests for 0.3 s: the
    failed request marks the survivor down for less than the proxy retries, so the client
    gets the answer, late, not a 503 (a 10 s mark outlasted the 5 s of retries)."""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    with _named_server("api", deaf_s=0.3) as api:
        config = ProxyConfig(upstreams=[f"127.0.0.1:{dead}", api], http_port=18492,
                             https_port=18493, bind="127.0.0.1")  # fmt: skip
        with _running(config, tmp_path):
            assert _first_answer("GET", "http://127.0.0.1:18492/readyz").text == "api"
            started = time.monotonic()
            answer = httpx.get("http://127.0.0.1:18492/v1/project", timeout=10)
            took = time.monotonic() - started
    print(f"answered {answer.status_code} after {took:.2f} s")
    assert (answer.status_code, answer.text) == (200, "api")
    assert FAIL_S <= took < config.try_duration_s


def test_page_processes_follow_the_apis_and_neither_judge_nor_notify(tmp_path: Path) -> None:
    spec = ClusterSpec(apis=2, pages=1, agents={"ams": 1}, calls=False)
    planned = {m.name: m for m in members(spec, tmp_path, "postgresql://db/callprobe")}
    assert list(planned) == ["api-1", "api-2", "pages-1", "proxy", "agent-ams-0"]
    assert [planned[n].port for n in ("api-1", "api-2", "pages-1")] == [18400, 18401, 18402]
    off = {"CALLPROBE_JUDGING": "false", "CALLPROBE_NOTIFY_DISPATCH": "false"}
    assert off.items() <= planned["pages-1"].env.items()
    assert not off.keys() & planned["api-1"].env.keys()
    proxy = spec.proxy()
    assert (proxy.upstreams, proxy.page_upstreams) == (
        ["127.0.0.1:18400", "127.0.0.1:18401"], ["127.0.0.1:18402"],
    )  # fmt: skip
