"""The far ends of the channel tests: HTTPS receivers standing in for each provider, with a
certificate made here for the provider host names (which the guard's resolver points at
127.0.0.1), an SMTP inbox, and a sender that runs a plugin through the guarded network."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notify.channels import CHANNELS
from notify.channels.base import ChannelConfig, Delivery, Sent
from notify.outbound import GuardedOutbound
from notify.ssrf import Guard
from tests.conftest import Run

HOSTS = [
    "hooks.slack.com",
    "prod-11.westeurope.logic.azure.com",
    "events.pagerduty.com",
    "api.pushover.net",
    "hooks.acme.test",
    "smtp.acme.test",
]
KEY = "dlv_01HZX7Q2"
"""The idempotency key of every delivery sent here."""

Send = Callable[[str, Any, dict[str, Any], dict[str, Any]], Sent]


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _signed(builder: x509.CertificateBuilder, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    now = datetime.now(UTC)
    dated = builder.serial_number(x509.random_serial_number()).not_valid_before(now)
    return dated.not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256())


def make_tls(folder: Path) -> Tls:
    """A CA, and a server certificate it signed for every host in ``HOSTS``."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _signed(
        x509.CertificateBuilder()
        .subject_name(_name("callprobe test CA"))
        .issuer_name(_name("callprobe test CA"))
        .public_key(ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True),
        ca_key,
    )
    leaf = _signed(
        x509.CertificateBuilder()
        .subject_name(_name("providers"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in HOSTS]), False),
        ca_key,
    )
    pem = serialization.Encoding.PEM
    (folder / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (folder / "key.pem").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "leaf.pem", folder / "key.pem")
    return Tls(
        server=server, client=ssl.create_default_context(cadata=ca.public_bytes(pem).decode())
    )


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A provider's endpoint: records each request, answers ``status`` with ``reply``."""

    status: int
    reply: bytes
    content_type: str = "application/json"
    requests: list[Request] = field(default_factory=list)
    port: int = 0


@contextmanager
def serve(receiver: Receiver, tls: Tls) -> Iterator[Receiver]:
    """``receiver`` listening with TLS on 127.0.0.1 (its port set) until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            headers = {name.lower(): value for name, value in self.headers.items()}
            receiver.requests.append(Request("POST", self.path, headers, body))
            self.send_response(receiver.status)
            self.send_header("content-type", receiver.content_type)
            self.send_header("content-length", str(len(receiver.reply)))
            self.end_headers()
            self.wfile.write(receiver.reply)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = tls.server.wrap_socket(server.socket, server_side=True)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


async def loopback(host: str, port: int) -> Sequence[str]:
    """The provider host names, as the guard resolves them here."""
    assert host in HOSTS, host
    return ["127.0.0.1"]


@contextmanager
def sender(run: Run[Any], tls: Tls) -> Iterator[Send]:
    """Sends a notice through a plugin, its settings validated as at channel creation,
    over the guarded network (loopback allow-listed, the test CA trusted)."""
    guard = Guard([ip_network("127.0.0.0/8")], resolver=loopback)
    out = GuardedOutbound(guard, timeout_s=5, tls=tls.client)

    def send(kind: str, notice: Any, config: dict[str, Any], secrets: dict[str, Any]) -> Sent:
        plugin = CHANNELS[kind]
        settings: ChannelConfig = plugin.Config.model_validate(config)
        hidden: ChannelConfig = plugin.Secrets.model_validate(secrets)
        sent: Sent = run(plugin.send(Delivery(key=KEY, notice=notice), settings, hidden, out))
        return sent

    try:
        yield send
    finally:
        run(out.aclose())


def common_headers(request: Request) -> None:
    """What every HTTP channel sends: a JSON POST with the idempotency key."""
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["idempotency-key"] == KEY
    assert request.headers["user-agent"] == "callprobe/0.1.0"


@dataclass
class Inbox:
    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        good = isinstance(data, LoginPassword) and data.password == b"s3cret"
        if good:
            self.logins.append(data.login)
        return AuthResult(success=good, handled=False)


def provider(status: int, reply: bytes, content_type: str = "application/json") -> Any:
    """A fixture: a provider's receiver answering ``status`` with ``reply``."""

    @pytest.fixture
    def fixture(tls: Tls) -> Iterator[Receiver]:
        with serve(Receiver(status, reply, content_type), tls) as running:
            yield running

    return fixture
