"""The guarded network against real loopback receivers: HTTP, HTTPS with a test CA, SMTP.

Names resolve through an injected table, so a name the system could not resolve
reaching the receiver proves the connection went to the address the guard checked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from ipaddress import ip_network
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notify.outbound import GuardedOutbound
from notify.ssrf import Guard
from tests.conftest import Run

LOOPBACK = [ip_network("127.0.0.0/8")]
NAMES = {"localhost": ["127.0.0.1"], "hooks.callprobe.test": ["127.0.0.1"]}
BUSY_BODY = b"database is down; " * 1000


async def table(host: str, port: int) -> Sequence[str]:
    return NAMES[host]


@dataclass
class Receiver:
    """An HTTP/1.1 receiver whose answer depends on the path; it records requests."""

    connections: int = 0
    requests: list[tuple[bytes, dict[str, str], bytes]] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        path = lines[0].split(" ")[1].encode()
        self.requests.append((path, headers, body))
        if path == b"/hang":
            await asyncio.sleep(3)
        writer.write(answer(path))
        await writer.drain()
        writer.close()


def answer(path: bytes) -> bytes:
    later = format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    status, extra, body = {
        b"/ok": (b"200 OK", b"", b"ok"),
        b"/hang": (b"200 OK", b"", b"late"),
        b"/busy": (b"500 Internal Server Error", b"Retry-After: 7\r\n", BUSY_BODY),
        b"/slow-down": (b"429 Too Many Requests", b"Retry-After: %s\r\n" % later.encode(), b""),
        b"/moved": (b"302 Found", b"Location: http://127.0.0.1:9/internal\r\n", b""),
    }.get(path, (b"404 Not Found", b"", b"no such hook"))
    return b"HTTP/1.1 %s\r\n%sContent-Length: %d\r\n\r\n%s" % (status, extra, len(body), body)


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


def certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: Any = None) -> Any:
    """A certificate for ``subject``: a CA when ``issuer`` is None, else (cert, key)
    of the CA signing a server certificate for that DNS name."""
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if issuer is None:
        builder = builder.issuer_name(name).add_extension(x509.BasicConstraints(True, None), True)
        return builder.sign(key, hashes.SHA256())
    ca, ca_key = issuer
    builder = builder.issuer_name(ca.subject).add_extension(
        x509.SubjectAlternativeName([x509.DNSName(subject)]), False
    )
    return builder.sign(ca_key, hashes.SHA256())


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A test CA and a server certificate for "localhost" (no IP in it) it signed."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = certificate("callprobe test CA", ca_key)
    leaf = certificate("localhost", key, (ca, ca_key))
    folder: Path = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return Tls(server=server, client=client)


def started(run: Run[Any], receiver: Receiver, tls: ssl.SSLContext | None = None) -> Any:
    return run(asyncio.start_server(receiver.serve, "127.0.0.1", 0, ssl=tls))


@pytest.fixture
def receiver(run: Run[Any]) -> Iterator[tuple[Receiver, int]]:
    receiver = Receiver()
    server = started(run, receiver)
    yield receiver, server.sockets[0].getsockname()[1]
    server.close()


def outbound(
    allow: Sequence[Any] = LOOPBACK, timeout_s: float = 5.0, **kwargs: Any
) -> GuardedOutbound:
    return GuardedOutbound(Guard(allow, resolver=table), timeout_s, **kwargs)


def post(run: Run[Any], out: GuardedOutbound, url: str) -> Any:
    async def once() -> Any:
        async with out:
            return await out.post(url, b'{"state":"unhealthy"}', {"webhook-id": "msg_1"})

    return run(once())


def test_a_2xx_is_ok_and_reaches_the_checked_address_with_the_name(
    run: Run[Any], receiver: tuple[Receiver, int]
) -> None:
    inbox, port = receiver
    sent = post(run, outbound(), f"http://hooks.callprobe.test:{port}/ok")
    assert (sent.ok, sent.status, sent.error, sent.permanent) == (True, 200, None, False)
    path, headers, body = inbox.requests[0]
    assert (path, body) == (b"/ok", b'{"state":"unhealthy"}')
    assert headers["host"] == f"hooks.callprobe.test:{port}"
    assert headers["webhook-id"] == "msg_1"


def test_a_500_is_retryable_after_its_retry_after(
    run: Run[Any], receiver: tuple[Receiver, int]
) -> None:
    sent = post(run, outbound(), f"http://127.0.0.1:{receiver[1]}/busy")
    assert (sent.ok, sent.status, sent.retry_after_s, sent.permanent) == (False, 500, 7.0, False)
    assert sent.error == ("HTTP 500: " + BUSY_BODY.decode())[: len("HTTP 500: ") + 200].strip()


def test_a_429_with_an_http_date_is_retryable_then(
    run: Run[Any], receiver: tuple[Receiver, int]
) -> None:
    sent = post(run, outbound(), f"http://127.0.0.1:{receiver[1]}/slow-down")
    assert (sent.ok, sent.status, sent.permanent, sent.error) == (False, 429, False, "HTTP 429")
    assert sent.retry_after_s is not None and 28.0 < sent.retry_after_s <= 30.0


def test_a_404_is_permanent(run: Run[Any], receiver: tuple[Receiver, int]) -> None:
    sent = post(run, outbound(), f"http://127.0.0.1:{receiver[1]}/unknown")
    assert (sent.ok, sent.status, sent.permanent) == (False, 404, True)
    assert (sent.error, sent.retry_after_s) == ("HTTP 404: no such hook", None)


def test_a_redirect_is_not_followed(run: Run[Any], receiver: tuple[Receiver, int]) -> None:
    inbox, port = receiver
    sent = post(run, outbound(), f"http://127.0.0.1:{port}/moved")
    assert (sent.ok, sent.status) == (False, 302)
    assert sent.error == (
        "HTTP 302: redirected to http://127.0.0.1:9/internal; redirects are not followed"
    )
    assert [path for path, _, _ in inbox.requests] == [b"/moved"]


def test_a_hanging_receiver_fails_within_the_timeout(
    run: Run[Any], receiver: tuple[Receiver, int]
) -> None:
    started_at = time.monotonic()
    sent = post(run, outbound(timeout_s=1.0), f"http://127.0.0.1:{receiver[1]}/hang")
    assert time.monotonic() - started_at < 1.5
    assert (sent.ok, sent.status, sent.permanent) == (False, None, False)
    assert sent.error == "no answer within 1 s"


def test_a_closed_port_is_retryable(run: Run[Any], receiver: tuple[Receiver, int]) -> None:
    sent = post(run, outbound(), "http://127.0.0.1:9/ok")
    assert (sent.ok, sent.status, sent.permanent) == (False, None, False)
    assert sent.error is not None and sent.error.startswith("ConnectError: ")


def test_dns_rebinding_at_send_time_is_refused_before_connecting(
    run: Run[Any], receiver: tuple[Receiver, int]
) -> None:
    inbox, port = receiver
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> Sequence[str]:
        return next(answers)

    guard = Guard([], resolver=rebinding)
    url = f"https://hooks.callprobe.test:{port}/ok"
    assert [str(ip) for ip in run(guard.check_url(url)).addresses] == ["93.184.216.34"]
    out = GuardedOutbound(guard, 5.0)
    sent = post(run, out, url)
    assert (sent.ok, sent.permanent, inbox.connections) == (False, True, 0)
    assert sent.error == (
        "notification target hooks.callprobe.test resolves to 127.0.0.1, a loopback address;"
        " allow it with CALLPROBE_NOTIFY_ALLOW_NETWORKS"
    )


def test_https_is_pinned_to_the_address_and_verified_for_the_name(run: Run[Any], tls: Tls) -> None:
    names: list[str | None] = []
    tls.server.sni_callback = lambda sock, name, context: names.append(name)
    inbox = Receiver()
    server = started(run, inbox, tls.server)
    port = server.sockets[0].getsockname()[1]
    try:
        sent = post(run, outbound(tls=tls.client), f"https://localhost:{port}/ok")
        wrong = post(run, outbound(tls=tls.client), f"https://hooks.callprobe.test:{port}/ok")
    finally:
        server.close()
        tls.server.sni_callback = None
    assert (sent.ok, sent.status) == (True, 200), sent.error
    assert inbox.requests[0][1]["host"] == f"localhost:{port}"
    assert names[0] == "localhost"
    assert (wrong.ok, wrong.permanent, len(inbox.requests)) == (False, False, 1)
    assert wrong.error is not None and "certificate verify failed" in wrong.error


@dataclass
class Inbox:
    """What an aiosmtpd server accepted, and whether the session was signed in and
    encrypted."""

    messages: list[Envelope] = field(default_factory=list)
    sessions: list[tuple[bool | None, bool]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        transport = server.transport
        encrypted = transport is not None and transport.get_extra_info("ssl_object") is not None
        self.sessions.append((session.authenticated, encrypted))
        return "250 Message accepted for delivery"


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    good = isinstance(data, LoginPassword) and (data.login, data.password) == (b"probe", b"pw1")
    return AuthResult(success=good, handled=False)


def smtp_server(run: Run[Any], inbox: Inbox, security: str, tls: Tls) -> Any:
    """An aiosmtpd server on loopback speaking ``security`` and asking for AUTH."""

    def protocol() -> SMTP:
        return SMTP(
            inbox,
            hostname="localhost",
            tls_context=tls.server if security == "starttls" else None,
            require_starttls=security == "starttls",
            authenticator=authenticate,
            auth_require_tls=security == "starttls",
        )

    async def start() -> Any:
        implicit = tls.server if security == "tls" else None
        return await asyncio.get_running_loop().create_server(
            protocol, "127.0.0.1", 0, ssl=implicit
        )

    return run(start())


def notice() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = "callprobe@example.com", "noc@example.com"
    message["Subject"] = "[callprobe] trunk-1 is unhealthy"
    message.set_content("MOS 2.1 (critical below 3.0)")
    return message


def mail(
    run: Run[Any], tls: Tls, security: Literal["starttls", "tls", "none"], password: str
) -> tuple[Any, Inbox]:
    inbox = Inbox()
    server = smtp_server(run, inbox, security, tls)
    port = server.sockets[0].getsockname()[1]
    out = outbound(tls=tls.client)
    try:
        sent = run(
            out.mail(
                notice(),
                host="localhost",
                port=port,
                security=security,
                username="probe",
                password=password,
            )
        )
    finally:
        server.close()
        run(out.aclose())
    return sent, inbox


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_mail_arrives_with_good_credentials(
    run: Run[Any], tls: Tls, security: Literal["starttls", "tls", "none"]
) -> None:
    sent, inbox = mail(run, tls, security, "pw1")
    assert (sent.ok, sent.status, sent.error) == (True, 250, None)
    [envelope] = inbox.messages
    assert envelope.content is not None and isinstance(envelope.content, bytes)
    arrived = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert arrived["Subject"] == "[callprobe] trunk-1 is unhealthy"
    assert envelope.rcpt_tos == ["noc@example.com"]
    assert inbox.sessions == [(True, security != "none")]


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_wrong_smtp_credentials_are_permanent(
    run: Run[Any], tls: Tls, security: Literal["starttls", "tls", "none"]
) -> None:
    sent, inbox = mail(run, tls, security, "wrong")
    assert (sent.ok, sent.status, sent.permanent, inbox.messages) == (False, 535, True, [])
    assert sent.error is not None
    assert sent.error.startswith("SMTP server refused the credentials: 535 ")


def test_mail_to_a_loopback_server_is_refused_unless_allow_listed(run: Run[Any]) -> None:
    out = outbound(allow=[])
    sent = run(
        out.mail(notice(), host="localhost", port=25, security="none", username=None, password=None)
    )
    run(out.aclose())
    assert (sent.ok, sent.permanent) == (False, True)
    assert sent.error is not None and "localhost resolves to 127.0.0.1" in sent.error
