"""The guarded network channels send through (:class:`notify.channels.base.Outbound`).

Each attempt resolves its target again through the SSRF guard and connects to the very
address the guard checked, so a second DNS answer cannot swap it (DNS rebinding); the
host name still drives TLS (SNI, certificate check) and the ``Host`` header. One attempt
is bounded as a whole by ``timeout_s``, redirects are never followed, and the answer
becomes a :class:`Sent` the dispatcher can act on (retry, when, or give up).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Literal

import aiosmtplib
import httpx

from notify.channels.base import Sent
from notify.ssrf import Address, Guard, Target, TargetRefused, TargetUnresolved

MAX_BODY_BYTES = 64 * 1024
"""Most of an answer's body read; its first ``ERROR_CHARS`` go into the error."""
ERROR_CHARS = 200
RETRYABLE = frozenset({408, 425, 429})
"""4xx answers worth another attempt; every 5xx is too."""
SMTP_DONE = 250


class GuardedOutbound:
    """HTTP POSTs and SMTP mail to checked addresses, one attempt each.

    Keep-alive is off: the connection pool is keyed by address, and a connection whose
    certificate was verified for one host name must not carry another host's request.
    ``tls`` is the trust to verify servers with (default: the system's store).
    """

    def __init__(self, guard: Guard, timeout_s: float, *, tls: ssl.SSLContext | None = None):
        self._guard = guard
        self._timeout_s = timeout_s
        self._tls = tls or ssl.create_default_context()
        self._ehlo_name: str | None = None
        self._client = httpx.AsyncClient(
            verify=self._tls,
            follow_redirects=False,
            timeout=timeout_s,
            limits=httpx.Limits(max_keepalive_connections=0),
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> GuardedOutbound:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    @property
    def _no_answer(self) -> Sent:
        return Sent(ok=False, error=f"no answer within {self._timeout_s:g} s")

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Sent:
        """POST ``body`` to ``url`` (https, or http to an allow-listed address)."""
        try:
            async with asyncio.timeout(self._timeout_s):
                target = await self._guard.check_url(url)
                return await self._post(target, httpx.URL(url), body, headers)
        except TargetRefused as exc:
            return _refused(exc)
        except (TimeoutError, httpx.TimeoutException):
            return self._no_answer
        except httpx.HTTPError as exc:
            return Sent(ok=False, error=_short(exc))
        except httpx.InvalidURL as exc:
            return Sent(ok=False, error=f"invalid URL: {exc}", permanent=True)

    async def _post(
        self, target: Target, url: httpx.URL, body: bytes, headers: Mapping[str, str]
    ) -> Sent:
        pinned = url.copy_with(host=str(target.addresses[0]))
        request = self._client.build_request(
            "POST",
            pinned,
            content=body,
            headers={**headers, "Host": url.netloc.decode("ascii")},
            extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
        )
        response = await self._client.send(request, stream=True)
        try:
            text = await _error_text(response) if response.status_code >= 400 else ""
        finally:
            await response.aclose()
        return answer(response.status_code, response.headers, text)

    async def mail(
        self,
        message: EmailMessage,
        *,
        host: str,
        port: int,
        security: Literal["starttls", "tls", "none"],
        username: str | None,
        password: str | None,
    ) -> Sent:
        """Send ``message`` through the SMTP server at ``host:port``; log in when a
        username is given."""
        try:
            async with asyncio.timeout(self._timeout_s):
                addresses = await self._guard.resolve(host, port)
                smtp = await self._smtp(host, addresses[0], port, security, (username, password))
                return await _send_mail(smtp, message)
        except TargetRefused as exc:
            return _refused(exc)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as exc:
            return _smtp_refusal(exc)
        except TimeoutError:
            return self._no_answer
        except OSError as exc:
            return Sent(ok=False, error=_short(exc))
        except aiosmtplib.SMTPException as exc:
            return Sent(ok=False, error=_short(exc), permanent=True)

    async def _local_name(self) -> str:
        """The name to greet SMTP servers with (EHLO), looked up once."""
        if self._ehlo_name is None:
            loop = asyncio.get_running_loop()
            self._ehlo_name = await loop.run_in_executor(None, socket.getfqdn)
        return self._ehlo_name

    async def _smtp(
        self,
        host: str,
        ip: Address,
        port: int,
        security: Literal["starttls", "tls", "none"],
        credentials: tuple[str | None, str | None],
    ) -> aiosmtplib.SMTP:
        """A client connected to ``ip`` that verifies the server's certificate for ``host``;
        once built, its transport owns the socket and closes it."""
        local_name = await self._local_name()
        sock = await _connect(ip, port)
        username, password = credentials
        try:
            return aiosmtplib.SMTP(
                hostname=host,
                sock=sock,
                local_hostname=local_name,
                use_tls=security == "tls",
                start_tls=security == "starttls",
                tls_context=self._tls,
                username=username,
                password=password,
                timeout=self._timeout_s,
            )
        except BaseException:
            sock.close()
            raise


def answer(status: int, headers: Mapping[str, str], text: str) -> Sent:
    """An HTTP answer as a :class:`Sent`: 2xx ok; 408/425/429/5xx retryable (with the
    far end's Retry-After); a redirect or another 4xx permanent."""
    if 200 <= status < 300:
        return Sent(ok=True, status=status)
    if 300 <= status < 400:
        location = headers.get("location") or "nowhere"
        error = f"HTTP {status}: redirected to {location}; redirects are not followed"
        return Sent(ok=False, status=status, error=error, permanent=True)
    error = f"HTTP {status}: {text}" if text else f"HTTP {status}"
    if status in RETRYABLE or status >= 500:
        wait = retry_after_s(headers.get("retry-after"))
        return Sent(ok=False, status=status, error=error, retry_after_s=wait)
    return Sent(ok=False, status=status, error=error, permanent=True)


def retry_after_s(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` asks for: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


async def _error_text(response: httpx.Response) -> str:
    """The start of an error answer's body, on one line (at most 64 KiB are read)."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= MAX_BODY_BYTES:
            break
    text = bytes(body[:MAX_BODY_BYTES]).decode("utf-8", errors="replace")
    return " ".join(text.split())[:ERROR_CHARS]


async def _connect(ip: Address, port: int) -> socket.socket:
    """A TCP connection to ``ip`` itself, for aiosmtplib to speak over."""
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (str(ip), port))
    except BaseException:
        sock.close()
        raise
    return sock


async def _send_mail(smtp: aiosmtplib.SMTP, message: EmailMessage) -> Sent:
    """Connect (TLS, login), send, quit; recipients refused while others took it are
    named in ``error`` of a successful :class:`Sent`."""
    async with smtp:
        refused, _ = await smtp.send_message(message)
    named = ", ".join(f"{to} ({reply.code} {reply.message})" for to, reply in refused.items())
    return Sent(ok=True, status=SMTP_DONE, error=f"refused: {named}" if named else None)


def _smtp_refusal(
    exc: aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused,
) -> Sent:
    """A reply the SMTP server refused with: permanent when it is a 5xx."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        replies = [(r.code, f"{r.message} ({r.recipient})") for r in exc.recipients]
        what = "SMTP server refused every recipient"
    else:
        replies = [(exc.code, exc.message)]
        what = "SMTP server refused"
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            what = "SMTP server refused the credentials"
    texts = "; ".join(f"{code} {message}" for code, message in replies)
    code = replies[0][0]
    return Sent(ok=False, status=code, error=f"{what}: {texts}", permanent=code >= 500)


def _refused(exc: TargetRefused) -> Sent:
    """A refused address is for the operator to fix; a name without one may resolve later."""
    return Sent(ok=False, error=str(exc), permanent=not isinstance(exc, TargetUnresolved))


def _short(exc: BaseException) -> str:
    """An exception as a short error text."""
    return f"{type(exc).__name__}: {exc}"[:ERROR_CHARS] if str(exc) else type(exc).__name__
