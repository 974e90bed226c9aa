"""Probes of the caller's project: define, change, remove; schedules follow in the same transaction.

A definition is checked as a whole (target by kind, options by kind, policy by
:class:`thresholds.rules.Policy`) on create and after a patch is merged.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Response
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from api.errors import invalid
from api.schemas.common import has_nul
from api.schemas.probes import ProbeCreate, ProbeCreated, ProbeOut, ProbePatch, RunQueued
from api.security.auth import PUSH_TOKEN_PREFIX, Reader, Writer, new_token
from api.security.crypto import encrypt_secret
from api.services import audit
from api.services.snapshots import settings
from api.state import AppState, State
from probes.kinds.options import InvalidOptions, parse_options
from probes.sip.uri import InvalidSipUri, parse_sip_uri
from store import locations, probes, quotas, schedules
from store.errors import Conflict
from store.pool import AsyncConn
from thresholds.rules import Policy

router = APIRouter(prefix="/v1/probes", tags=["probes"])

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?$")
_POLICY: TypeAdapter[Policy] = TypeAdapter(Policy)
_POLICY_FIELDS = frozenset(field.name for field in dataclasses.fields(Policy))


@router.get("", response_model=list[ProbeOut])
async def list_probes(principal: Reader, st: State) -> list[probes.Probe]:
    """The project's probes by name."""
    async with st.transaction() as conn:
        return await probes.list_probes(conn, principal.project_id)


@router.post("", status_code=201, response_model=ProbeCreated)
async def create_probe(body: ProbeCreate, principal: Writer, st: State) -> ProbeCreated:
    """Create a probe (409 ``quota_exceeded`` past the project's quota); a push probe's
    token is in this response only."""
    fields = definition(body)
    push = new_token(PUSH_TOKEN_PREFIX) if body.kind == "push" else None
    secret = _encrypt(st, body.secret)
    async with st.transaction() as conn:
        limit = st.settings.max_probes_per_project
        await quotas.claim(conn, principal.project_id, "probes", limit)
        location_ids = await _location_ids(conn, principal.project_id, body.locations)
        probe = await probes.create_probe(
            conn, principal.project_id, fields, location_ids=location_ids, secret=secret,
            push_token_hash=push.hash if push else None,
        )  # fmt: skip
        await schedules.sync_schedules(conn, probe.id)
        await audit.record(conn, principal, "create", "probe", probe.id, after=settings(probe))
    created = {**dataclasses.asdict(probe), "push_token": push.token if push else None}
    return ProbeCreated.model_validate(created)


@router.get("/{probe_id}", response_model=ProbeOut)
async def get_probe(probe_id: uuid.UUID, principal: Reader, st: State) -> probes.Probe:
    """One probe (never its secret)."""
    async with st.transaction() as conn:
        return await probes.get_probe(conn, principal.project_id, probe_id)


@router.patch("/{probe_id}", response_model=ProbeOut)
async def update_probe(
    probe_id: uuid.UUID, body: ProbePatch, principal: Writer, st: State
) -> probes.Probe:
    """Change some fields; the result is validated as a whole. ``secret: null`` removes it.

    Changing where the secret is sent (target, replicas, registrar, user name, realm)
    clears it unless the same request sends it again.
    """
    changes = body.model_dump(exclude_unset=True)
    async with st.transaction() as conn:
        current = await probes.get_probe(conn, principal.project_id, probe_id)
        merged = _merge(current, changes)
        location_ids = await _location_ids(conn, principal.project_id, merged.locations)
        fields = definition(merged)
        await probes.update_probe(
            conn, principal.project_id, probe_id, fields, location_ids=location_ids
        )
        if "secret" in changes or _secret_destination(current) != _secret_destination(fields):
            secret = _encrypt(st, changes.get("secret"))
            await probes.set_secret(conn, principal.project_id, probe_id, secret)
        await schedules.sync_schedules(conn, probe_id)
        changed = await probes.get_probe(conn, principal.project_id, probe_id)
        await audit.record(conn, principal, "update", "probe", probe_id,
                           before=settings(current), after=settings(changed))  # fmt: skip
        return changed


@router.delete("/{probe_id}", status_code=204, response_class=Response)
async def delete_probe(probe_id: uuid.UUID, principal: Writer, st: State) -> None:
    """Delete a probe with its schedule, thresholds, results' health and incidents."""
    async with st.transaction() as conn:
        current = await probes.get_probe(conn, principal.project_id, probe_id)
        await probes.delete_probe(conn, principal.project_id, probe_id)
        await audit.record(conn, principal, "delete", "probe", probe_id, before=settings(current))


@router.post("/{probe_id}/run", status_code=202, response_model=RunQueued)
async def run_probe(probe_id: uuid.UUID, principal: Writer, st: State) -> RunQueued:
    """Run the probe once now: every (location, target) of it falls due, so the next
    lease at each location takes it at once (409 when it is disabled, a push probe or
    has no location); its results arrive as any other run's."""
    async with st.transaction() as conn:
        probe = await probes.get_probe(conn, principal.project_id, probe_id)
        problem = _not_runnable(probe)
        if problem:
            raise Conflict(problem)
        count = await schedules.run_now(conn, probe_id)
        await audit.record(conn, principal, "run", "probe", probe_id, after={"locations": count})
    return RunQueued(probe_id=probe_id, locations=count)


def definition(body: ProbeCreate) -> probes.ProbeFields:
    """The stored form of a probe definition, or a 422 naming what is wrong."""
    _check_targets(body.kind, body.target, body.replicas)
    return probes.ProbeFields(
        name=body.name, kind=body.kind, target=body.target, replicas=body.replicas,
        interval_s=body.interval_s, timeout_s=body.timeout_s, enabled=body.enabled,
        options=_options(body.kind, body.options), policy=_policy(body.policy),
        tags=body.tags,
    )  # fmt: skip


def check_target(kind: str, target: str) -> str | None:
    """Why ``target`` cannot be probed by ``kind`` (None when it can)."""
    if kind == "push":
        return "a push probe has no target" if target else None
    if not target:
        return "a target is required"
    if kind.startswith("sip_"):
        try:
            parse_sip_uri(target)
        except InvalidSipUri as exc:
            return str(exc)
        return None
    checks = {"http": _http_problem, "tcp": _tcp_problem, "icmp": _host_problem}
    return checks[kind](target)


def _check_targets(kind: str, target: str, replicas: Sequence[str]) -> None:
    if kind == "push" and replicas:
        raise invalid(("body", "replicas"), "a push probe has no replicas")
    for loc, text in [(("body", "target"), target)] + [
        (("body", "replicas", index), replica) for index, replica in enumerate(replicas)
    ]:
        problem = check_target(kind, text)
        if problem:
            raise invalid(loc, problem)


def _http_problem(target: str) -> str | None:
    try:
        parts = urlsplit(target)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"not a URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "an http probe needs an http:// or https:// URL with a host"
    return None


def _tcp_problem(target: str) -> str | None:
    host, _, port = target.rpartition(":")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        return "a tcp probe needs host:port with a port in 1..65535"
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return _host_problem(host)


def _host_problem(host: str) -> str | None:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST.match(host):
            return f"{host!r} is not a host name or IP address"
    return None


def _options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    try:
        parsed = parse_options(kind, options)
    except InvalidOptions as exc:
        raise invalid(("body", "options"), str(exc)) from exc
    stored: dict[str, Any] = parsed.model_dump(mode="json", exclude_unset=True, exclude={"kind"})
    if has_nul(stored):
        raise invalid(("body", "options"), "must not contain NUL characters")
    return stored


def _policy(policy: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(policy) - _POLICY_FIELDS)
    if unknown:
        raise invalid(("body", "policy"), f"unknown policy fields: {', '.join(unknown)}")
    try:
        parsed = _POLICY.validate_python(policy)
    except ValidationError as exc:
        errors = [{**err, "loc": ("body", "policy", *err["loc"])} for err in exc.errors()]
        raise RequestValidationError(errors) from exc
    return {name: getattr(parsed, name) for name in policy}


def _merge(current: probes.Probe, changes: dict[str, Any]) -> ProbeCreate:
    base = {name: getattr(current, name) for name in ProbeCreate.model_fields if name != "secret"}
    updates = {name: value for name, value in changes.items() if name != "secret"}
    try:
        return ProbeCreate.model_validate({**base, **updates})
    except ValidationError as exc:
        errors = [{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]
        raise RequestValidationError(errors) from exc


async def _location_ids(
    conn: AsyncConn, project_id: uuid.UUID, names: Sequence[str]
) -> list[uuid.UUID]:
    found = await locations.location_ids(conn, project_id, names)
    unknown = sorted(set(names) - set(found))
    if unknown:
        raise invalid(("body", "locations"), f"unknown locations: {', '.join(unknown)}")
    return list(found.values())


_DESTINATION_OPTIONS = ("registrar", "username", "realm")


def _secret_destination(probe: probes.ProbeFields) -> tuple[object, ...]:
    """Where and as whom a probe's secret is presented: a change here clears the secret."""
    parsed = parse_options(probe.kind, probe.options)
    options = tuple(getattr(parsed, name, None) for name in _DESTINATION_OPTIONS)
    return (probe.target, tuple(probe.replicas), options)


def _not_runnable(probe: probes.Probe) -> str | None:
    if probe.kind == "push":
        return "a push probe is not run by agents: its application reports by itself"
    if not probe.enabled:
        return "the probe is disabled: enable it to run it"
    if not probe.locations:
        return "the probe has no location to run from: add one"
    return None


def _encrypt(st: AppState, secret: str | None) -> bytes | None:
    return None if secret is None else encrypt_secret(st.settings, secret)
