"""The SIP REGISTER check: digest-authenticated registration time (RFC 6076 RRD).

Hand-written rather than run through the pjsua2 engine: a REGISTER is two small
non-INVITE transactions, and doing it here lets agents without a call engine
(no pjsua2 worker processes) run it, shares the OPTIONS check's transport, and
measures RRD on the wire instead of through pjsua2's account callbacks. Digest
is RFC 7616 / RFC 2617 with MD5 (what SIP registrars offer), ``qop=auth`` when
offered, else the RFC 2069 form.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from dataclasses import dataclass, replace

from probes.kinds.options import SipRegisterOptions
from probes.kinds.sip_wire import (
    Channel,
    Dialog,
    build_request,
    new_branch,
    new_token,
    open_channel,
    transact,
)
from probes.result import CallResult, Outcome
from probes.sip.message import SipMessage
from probes.sip.uri import SipUri

EXPIRES_S = 60
UNREGISTER_TIMEOUT_S = 2.0
_PARAM_RE = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


class ChallengeError(ValueError):
    """A 401/407 challenge we cannot answer."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Challenge:
    """The parameters of a ``Digest`` challenge (RFC 7616 section 3.3)."""

    realm: str
    nonce: str
    opaque: str | None = None
    qop_auth: bool = False


def parse_challenge(header: str) -> Challenge:
    """Parse a WWW-/Proxy-Authenticate value; raises :class:`ChallengeError`."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise ChallengeError(f"unsupported auth scheme {scheme[:20]!r}")
    params = {m[1].lower(): m[2] or m[3] for m in _PARAM_RE.finditer(rest)}
    algorithm = params.get("algorithm", "MD5")
    if algorithm.upper() != "MD5":
        raise ChallengeError(f"unsupported digest algorithm {algorithm[:20]!r}")
    if "realm" not in params or "nonce" not in params:
        raise ChallengeError("digest challenge without realm or nonce")
    qops = {q.strip().lower() for q in params.get("qop", "").split(",")}
    return Challenge(
        realm=params["realm"],
        nonce=params["nonce"],
        opaque=params.get("opaque"),
        qop_auth="auth" in qops,
    )


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def digest_response(
    challenge: Challenge,
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    cnonce: str,
    nc: int = 1,
) -> str:
    """The ``Digest ...`` credentials answering ``challenge`` (RFC 2617 section 3.2.2)."""
    ha1 = _md5(f"{username}:{challenge.realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    fields = [
        f'username="{username}"',
        f'realm="{challenge.realm}"',
        f'nonce="{challenge.nonce}"',
        f'uri="{uri}"',
        "algorithm=MD5",
    ]
    if challenge.qop_auth:
        count = f"{nc:08x}"
        response = _md5(f"{ha1}:{challenge.nonce}:{count}:{cnonce}:auth:{ha2}")
        fields += ["qop=auth", f"nc={count}", f'cnonce="{cnonce}"']
    else:
        response = _md5(f"{ha1}:{challenge.nonce}:{ha2}")
    fields.append(f'response="{response}"')
    if challenge.opaque is not None:
        fields.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(fields)


async def check_register(
    uri: SipUri, options: SipRegisterOptions, password: str | None, base: CallResult
) -> CallResult:
    """REGISTER as ``options.username`` at the registrar ``uri``, then unregister.

    ``register_ms`` is RFC 6076 RRD: the first REGISTER sent to the final 2xx,
    the digest challenge round trip included.
    """
    registrar = SipUri(user=None, host=uri.host, port=uri.port, transport=uri.transport)
    aor = str(SipUri(user=options.username, host=uri.host, port=uri.port, transport="udp"))
    dialog = Dialog(
        request_uri=str(registrar),
        from_uri=aor,
        to_uri=aor,
        call_id=new_token(),
        from_tag=new_token(),
    )
    channel = await open_channel(uri)
    try:
        session = _Session(channel, dialog, options, password)
        response, elapsed_ms = await session.register(EXPIRES_S)
        if response.status // 100 == 2:
            await session.unregister()
    finally:
        await channel.close()
    return _result(base, response, elapsed_ms, session.problem)


def _result(
    base: CallResult, response: SipMessage, elapsed_ms: float, problem: str | None
) -> CallResult:
    registered = response.status // 100 == 2
    if registered:
        error = None
    elif problem is not None:
        error = f"REGISTER refused with {response.status}: {problem}"
    else:
        error = f"REGISTER refused: {response.status} {response.reason}".strip()
    return replace(
        base,
        outcome=Outcome.OK if registered else Outcome.REGISTER_FAILED,
        error=error,
        sip_status=response.status,
        sip_reason=response.reason,
        register_ms=elapsed_ms if registered else None,
    )


class _Session:
    """The REGISTER transactions of one check, sharing Call-ID, CSeq and credentials."""

    def __init__(
        self, channel: Channel, dialog: Dialog, options: SipRegisterOptions, password: str | None
    ) -> None:
        self.channel = channel
        self.dialog = dialog
        self.options = options
        self.password = password
        self.cseq = 0
        self.nc = 0
        self.cnonce = new_token()
        self.challenge: tuple[str, Challenge] | None = None
        self.problem: str | None = None

    async def register(self, expires: int) -> tuple[SipMessage, float]:
        """One REGISTER, answering at most one challenge; returns the final answer and ms."""
        response, total_ms = await self._send(expires)
        if response.status in (401, 407) and self._take_challenge(response):
            response, again_ms = await self._send(expires)
            total_ms = round(total_ms + again_ms, 3)
        return response, total_ms

    async def unregister(self) -> None:
        """Remove our binding (Expires: 0), best effort: the check has already succeeded."""
        with contextlib.suppress(OSError, ValueError, TimeoutError):
            async with asyncio.timeout(UNREGISTER_TIMEOUT_S):
                await self.register(0)

    def _take_challenge(self, response: SipMessage) -> bool:
        header_name = "www-authenticate" if response.status == 401 else "proxy-authenticate"
        header = response.header(header_name)
        if header is None:
            self.problem = f"challenge without {header_name}"
        elif self.password is None:
            self.problem = "the registrar asks for credentials but the probe has no password"
        else:
            try:
                challenge = parse_challenge(header)
            except ChallengeError as exc:
                self.problem = str(exc)
                return False
            if self.options.realm not in ("*", challenge.realm):
                self.problem = f"challenge realm {challenge.realm!r} is not {self.options.realm!r}"
                return False
            auth = "Authorization" if response.status == 401 else "Proxy-Authorization"
            self.challenge = (auth, challenge)
            return True
        return False

    async def _send(self, expires: int) -> tuple[SipMessage, float]:
        self.cseq += 1
        extra = [f"Expires: {expires}"]
        if self.challenge is not None and self.password is not None:
            self.nc += 1
            auth, challenge = self.challenge
            credentials = digest_response(
                challenge,
                method="REGISTER",
                uri=self.dialog.request_uri,
                username=self.options.username,
                password=self.password,
                cnonce=self.cnonce,
                nc=self.nc,
            )
            extra.append(f"{auth}: {credentials}")
        branch = new_branch()
        message = build_request(
            "REGISTER", self.dialog, self.channel, cseq=self.cseq, branch=branch, extra=tuple(extra)
        )
        return await transact(self.channel, message, branch)
