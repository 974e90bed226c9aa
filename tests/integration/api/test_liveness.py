"""/healthz and /readyz through the session's app, and request ids on every response."""

from __future__ import annotations

import re

from api.state import of


def test_healthz_answers_without_credentials_and_is_never_cached(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_readyz_is_ready_while_the_database_answers_and_the_schema_matches(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert response.headers["cache-control"] == "no-store"


def test_readyz_says_503_with_retry_after_while_draining(client) -> None:
    state = of(client.app)
    state.draining = True
    try:
        response = client.get("/readyz")
    finally:
        state.draining = False
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"]["code"] == "draining"
    assert client.get("/healthz").status_code == 200


def test_a_sane_request_id_is_kept_and_anything_else_replaced(client) -> None:
    given = "edge-7f3a:1.2_x"
    assert client.get("/healthz", headers={"X-Request-ID": given}).headers["x-request-id"] == given
    for insane in ("a b", "x" * 129, "<script>", ""):
        made = client.get("/healthz", headers={"X-Request-ID": insane}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)
    first, second = (client.get("/v1/project").headers["x-request-id"] for _ in range(2))
    assert first != second
