"""Probe forms as the API models see them: the per-kind option fields read off the
options models of ``probes/kinds/options.py`` (so a new option shows up by itself), a
posted form turned into a ``ProbeCreate`` / ``ProbePatch`` body, and a stored probe
turned back into form values. The rules stay in the models and the route functions.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from starlette.datastructures import FormData

from api.console.forms import Problems, parse
from api.routes.probes import check_target
from api.schemas.probes import ProbeCreate
from probes.kinds import options as kinds
from store.probes import Probe

KIND_LABELS = {
    "sip_call": "SIP call",
    "sip_options": "SIP OPTIONS ping",
    "sip_register": "SIP REGISTER",
    "http": "HTTP(S)",
    "tcp": "TCP connect",
    "icmp": "ICMP ping",
    "push": "Push (the application reports)",
}
SECRET_KINDS = {"sip_call": "SIP password", "sip_register": "SIP password"}
"""Kinds whose runs use the probe's write-only secret, and what it is to the user."""

_MODELS: dict[str, type[BaseModel]] = {
    "sip_call": kinds.SipCallOptions,
    "sip_options": kinds.SipOptionsOptions,
    "sip_register": kinds.SipRegisterOptions,
    "http": kinds.HttpOptions,
    "tcp": kinds.TcpOptions,
    "icmp": kinds.IcmpOptions,
    "push": kinds.PushOptions,
}
_LABELS = {
    "codec": "Codec",
    "talk_s": "Talk time (s)",
    "transport": "Transport",
    "registrar": "Registrar (register before calling)",
    "username": "User name",
    "realm": "Realm",
    "follow_redirects": "Redirects to follow",
    "accepted_codes": "Accepted SIP answers (comma-separated)",
    "method": "Method",
    "accepted_status": "Accepted HTTP status codes (comma-separated)",
    "body_contains": "Body must contain",
    "verify_tls": "Verify the TLS certificate",
    "count": "Pings per run",
    "interval_s": "Seconds between pings",
    "dead_after_s": "Dead after this many seconds of silence",
}
Widget = Literal["select", "checkbox", "number", "codes", "text"]


@dataclass(frozen=True, kw_only=True, slots=True)
class OptionField:
    """One option of a kind as a form field (``name`` is the option's name)."""

    name: str
    label: str
    widget: Widget
    choices: tuple[str, ...]
    optional: bool
    default: Any
    help: str

    @property
    def key(self) -> str:
        """The form field's name (and its messages' key)."""
        return f"options.{self.name}"


def option_fields(kind: str) -> list[OptionField]:
    """The kind's options as form fields, in the model's order."""
    model = _MODELS[kind]
    return [_field(name, info) for name, info in model.model_fields.items() if name != "kind"]


def _field(name: str, info: Any) -> OptionField:
    kinds_of = _flat(info.annotation)
    optional = type(None) in kinds_of
    choices = tuple(str(arg) for kind in kinds_of if _is_literal(kind) for arg in kind.__args__)
    widget: Widget = "text"
    if choices:
        widget = "select"
    elif bool in kinds_of:
        widget = "checkbox"
    elif int in kinds_of or float in kinds_of:
        widget = "number"
    elif any(typing.get_origin(kind) is list for kind in kinds_of):
        widget = "codes"
    default = None if info.default is PydanticUndefined else info.default
    if info.default_factory:
        default = info.default_factory()
    label = _LABELS.get(name, name.replace("_", " ").capitalize())
    return OptionField(name=name, label=label, widget=widget, choices=choices,
                       optional=optional, default=default, help=info.description or "")  # fmt: skip


def _flat(annotation: Any) -> tuple[Any, ...]:
    """The types a (possibly annotated, possibly union) annotation allows."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(t for arg in typing.get_args(annotation) for t in _flat(arg))
    return (annotation,)


def _is_literal(annotation: Any) -> bool:
    return typing.get_origin(annotation) is Literal


def shown(value: Any) -> Any:
    """An option's or a field's value as the form shows it."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return value if isinstance(value, bool) else str(value)


def blank(kind: str) -> dict[str, Any]:
    """The values of a new probe's form: the models' defaults."""
    defaults = {name: info.default for name, info in ProbeCreate.model_fields.items()}
    values = {name: shown(defaults[name]) for name in ("interval_s", "timeout_s", "enabled")}
    values.update({"name": "", "target": "", "replicas": "", "tags": "", "locations": []})
    values.update({field.key: shown(field.default) for field in option_fields(kind)})
    return values


def stored(probe: Probe) -> dict[str, Any]:
    """A stored probe's form values (never its secret)."""
    parsed = kinds.parse_options(probe.kind, probe.options)
    values: dict[str, Any] = {
        "name": probe.name, "target": probe.target, "replicas": "\n".join(probe.replicas),
        "interval_s": str(probe.interval_s), "timeout_s": shown(probe.timeout_s),
        "enabled": probe.enabled, "locations": list(probe.locations),
        "tags": ", ".join(probe.tags),
    }  # fmt: skip
    values.update({f.key: shown(getattr(parsed, f.name)) for f in option_fields(probe.kind)})
    return values


def posted_values(kind: str, posted: FormData) -> dict[str, Any]:
    """What the user typed, to show again beside the messages (never the secret)."""
    values: dict[str, Any] = {
        name: str(posted.get(name, ""))
        for name in ("name", "target", "replicas", "interval_s", "timeout_s", "tags")
    }
    values["enabled"] = "enabled" in posted
    values["locations"] = [str(name) for name in posted.getlist("locations")]
    for field in option_fields(kind):
        raw = posted.get(field.key)
        values[field.key] = raw is not None if field.widget == "checkbox" else str(raw or "")
    return values


def body(kind: str, posted: FormData, problems: Problems) -> dict[str, Any]:
    """The request body the form stands for; the options are checked by the kind's own
    model here so each message lands beside its field."""
    values = posted_values(kind, posted)
    options = _options(kind, values, problems)
    result: dict[str, Any] = {
        "name": values["name"], "target": values["target"],
        "replicas": _split(values["replicas"], "\n"),
        "interval_s": values["interval_s"], "timeout_s": values["timeout_s"],
        "enabled": values["enabled"], "locations": values["locations"],
        "tags": _split(values["tags"], ","), "options": options,
    }  # fmt: skip
    secret = str(posted.get("secret", ""))
    if secret:
        result["secret"] = secret
    elif "clear_secret" in posted:
        result["secret"] = None
    return result


def _options(kind: str, values: dict[str, Any], problems: Problems) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for field in option_fields(kind):
        raw = values[field.key]
        if field.widget == "checkbox":
            options[field.name] = raw
        elif raw.strip():
            options[field.name] = _split(raw, ",") if field.widget == "codes" else raw.strip()
    found = Problems()
    parse(_MODELS[kind], {**options, "kind": kind}, found)
    for where, message in found.by_field.items():
        problems.add(f"options.{where.split('.')[0]}", message)
    return options


def check(model: type[BaseModel], kind: str, data: dict[str, Any], problems: Problems) -> Any:
    """``data`` as ``model`` (None when it does not fit), with the API's own target check
    run too so both messages show at once; list items' messages go to their list."""
    found = Problems()
    parsed = parse(model, data, found)
    problem = check_target(kind, str(data.get("target", "")).strip())
    if problem and "target" in data:
        found.add("target", problem)
    for where, message in found.by_field.items():
        problems.add(fold(where), message)
    return parsed if not found else None


def fold(where: str) -> str:
    """A message's field: ``options.talk_s`` stays, ``tags.2`` becomes ``tags``."""
    head, _, rest = where.partition(".")
    return f"{head}.{rest.split('.')[0]}" if head == "options" and rest else head


def _split(text: str, separator: str) -> list[str]:
    return [part.strip() for part in text.split(separator) if part.strip()]
