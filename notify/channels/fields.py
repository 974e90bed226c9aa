"""Field types and helpers the channel plugins share: URLs, secrets, typed configs."""

from __future__ import annotations

import re
from typing import Annotated, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from notify.channels.base import ChannelConfig

Model = TypeVar("Model", bound=ChannelConfig)

_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def narrow(model: type[Model], value: ChannelConfig) -> Model:
    """``value`` as the plugin's own model (the protocol passes the common base)."""
    if not isinstance(value, model):
        raise TypeError(f"expected {model.__name__}, got {type(value).__name__}")
    return value


def _http_url(url: str) -> str:
    """An absolute http(s) URL; whether plain http or the address is allowed is the SSRF
    guard's decision, at creation and at send time."""
    if _CONTROL.search(url):
        raise ValueError("a URL may not contain spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in the URL are not allowed")
    return url


def _https_url(url: str) -> str:
    if urlsplit(_http_url(url)).scheme != "https":
        raise ValueError("must be an https:// URL")
    return url


HttpUrl = Annotated[str, Field(max_length=2048), AfterValidator(_http_url)]
HttpsUrl = Annotated[str, Field(max_length=2048), AfterValidator(_https_url)]


def shaped(pattern: str, message: str) -> AfterValidator:
    """A validator: the whole value matches ``pattern``, else ``message``."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


Secret = Field(repr=False)
"""Secrets never show in a repr (logs, tracebacks); dumps still carry them for storage."""
