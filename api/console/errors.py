"""How the console answers what it refuses: a redirect to sign in, or a page saying why
(never the API's JSON error, since a person reads it)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from api.console import render
from api.console.session import Refused, SignInNeeded, sign_in_url


def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInNeeded, _sign_in)  # type: ignore[arg-type]
    app.add_exception_handler(Refused, _refused)  # type: ignore[arg-type]


async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
    return render.redirect(sign_in_url(exc.next_path))


async def _refused(request: Request, exc: Refused) -> Response:
    return render.page(
        request, "refused.html.j2", exc.status, refused_status=exc.status, message=exc.message
    )
