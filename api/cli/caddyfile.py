"""The reverse proxy's configuration: a Caddyfile for Caddy 2.6 (Debian bookworm's).

A pure function of the upstream addresses and ports, shared by ``callprobe cluster``
and the container images (``docker/``). Caddy load-balances to the API processes,
checks each one's readiness, retries a request on another upstream while one is down,
passes ``X-Forwarded-For``/``-Proto`` (it replaces what a client sent), sets
``X-Request-ID`` when the client sent none, answers 503 with ``Retry-After`` when no
replica is ready, and terminates TLS for verified custom
status-page domains only: on-demand certificates, asked for at the API's
``/v1/public/domains/allowed``. ``internal_issuer`` signs them with Caddy's own local CA
(no ACME reachable here); production removes that one ``issuer internal`` line and Caddy
uses Let's Encrypt / ZeroSSL through ACME.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from api.errors import RETRY_AFTER_S

ASK_PATH = "/v1/public/domains/allowed"
PAGE_PATHS = ("/s/*", "/static/*")
"""What the page processes serve when there are any: the public pages and their assets."""
UNAVAILABLE_BODY = (
    '{"error": {"code": "unavailable", "message": "no API replica is ready (the database may'
    ' be restarting); try again shortly", "details": []}}'
)
"""What the proxy answers when no replica can take a request (each one's ``/readyz`` says
503 while its database is away): the API's own error shape and ``Retry-After``, so
clients back off as they do for a replica's 503."""


FAIL_S = 2.0
"""How long a failed request marks its upstream down: the active check (every second)
marks a dead one down for good; this only bridges the first second after it died."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ProxyConfig:
    """Where the proxy listens and what it forwards to."""

    upstreams: Sequence[str]
    """The API processes, ``host:port`` each."""
    page_upstreams: Sequence[str] = ()
    """Processes that serve the public pages (``/s/`` and ``/static/``) apart from the
    APIs, so page latency does not depend on ingest; none: the APIs serve them too."""
    http_port: int = 80
    https_port: int = 443
    bind: str | None = None
    """Listen on this address only (None: every interface)."""
    health_uri: str = "/readyz"
    internal_issuer: bool = True
    try_duration_s: float = 5.0


def caddyfile(config: ProxyConfig) -> str:
    """The Caddyfile text (``caddy run --config FILE --adapter caddyfile``)."""
    if not config.upstreams:
        raise ValueError("the proxy needs at least one upstream")
    return "\n".join([*_globals(config), "", *_upstreams(config), "", *_sites(config), ""])


def _globals(config: ProxyConfig) -> list[str]:
    bind = [f"\tdefault_bind {config.bind}"] if config.bind else []
    ask_host = config.bind or "127.0.0.1"
    return [
        "{",
        "\tadmin off",
        f"\thttp_port {config.http_port}",
        f"\thttps_port {config.https_port}",
        *bind,
        "\tskip_install_trust",
        "\ton_demand_tls {",
        f"\t\task http://{ask_host}:{config.http_port}{ASK_PATH}",
        "\t}",
        "}",
    ]


def _upstreams(config: ProxyConfig) -> list[str]:
    if config.page_upstreams:
        routes = [
            f"\t@pages path {' '.join(PAGE_PATHS)}",
            "\thandle @pages {",
            *_indented(_reverse_proxy(config, config.page_upstreams)),
            "\t}",
            "\thandle {",
            *_indented(_reverse_proxy(config, config.upstreams)),
            "\t}",
        ]
    else:
        routes = _reverse_proxy(config, config.upstreams)
    return [
        "(upstreams) {",
        "\t@no_request_id not header X-Request-ID *",
        "\trequest_header @no_request_id X-Request-ID {http.request.uuid}",
        *routes,
        "\thandle_errors {",
        "\t\t@unavailable expression `{err.status_code} in [502, 503, 504]`",
        f"\t\theader @unavailable Retry-After {RETRY_AFTER_S}",
        "\t\theader @unavailable Content-Type application/json",
        f"\t\trespond @unavailable `{UNAVAILABLE_BODY}` 503",
        "\t}",
        "}",
    ]


def _reverse_proxy(config: ProxyConfig, upstreams: Sequence[str]) -> list[str]:
    # Idle connections to the APIs are dropped after 3 s, before uvicorn closes them
    # (5 s): Caddy's default (2 minutes) let it reuse a connection the API had just
    # closed, a failed request that also marked a healthy API down for fail_duration.
    # Every mark-down ends within the retry window (a failed request: fail_duration;
    # a failed readiness check: the next check, 1 s on), so one hiccup of the last
    # replica standing is retried through, not answered 503 for the whole window (a
    # 10 s fail_duration did that twice in clean-clone CI with api-1 killed).
    return [
        f"\treverse_proxy {' '.join(upstreams)} {{",
        "\t\ttransport http {",
        "\t\t\tkeepalive 3s",
        "\t\t}",
        "\t\tlb_policy round_robin",
        f"\t\tlb_try_duration {config.try_duration_s:g}s",
        "\t\tlb_try_interval 100ms",
        f"\t\tfail_duration {FAIL_S:g}s",
        f"\t\thealth_uri {config.health_uri}",
        "\t\thealth_interval 1s",
        "\t\thealth_timeout 2s",
        "\t}",
    ]


def _indented(lines: list[str]) -> list[str]:
    return [f"\t{line}" for line in lines]


def _sites(config: ProxyConfig) -> list[str]:
    issuer = ["\t\tissuer internal"] if config.internal_issuer else []
    return [
        "http:// {",
        "\timport upstreams",
        "}",
        "",
        "https:// {",
        "\ttls {",
        "\t\ton_demand",
        *issuer,
        "\t}",
        "\timport upstreams",
        "}",
    ]
