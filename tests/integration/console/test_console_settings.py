"""Settings in the console: API keys (owners only, token shown once), members and roles
(the last owner stays), invitations (a link that works once and expires), notification
channels (create, test-send to a real receiver, the log, redeliver), and the audit log
(owners only, before/after without secrets, CSV)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.settings import Settings
from tests.integration.console.conftest import PASSWORD, Person, new_email
from tests.integration.notify.receiver import Answer, Receiver, serving

pytestmark = pytest.mark.db


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving() as running:
        yield running


def _sql(settings: Settings, query: str, *params: Any) -> Any:
    with psycopg.connect(settings.resolved_database_url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def test_owner_creates_and_revokes_keys_editor_is_refused(
    owner: Person, editor: Person, client: TestClient
) -> None:
    made = owner.post(owner.path("/settings/keys"), {"name": "ci", "scope": "write"})
    assert made.status_code == 201
    token = re.search(r"cp_[A-Za-z0-9_-]{20,}", made.text)
    assert token is not None
    headers = {"Authorization": f"Bearer {token.group(0)}"}
    assert client.get("/v1/project", headers=headers).status_code == 200
    listing = owner.client.get(owner.path("/settings")).text
    assert token.group(0) not in listing and token.group(0)[:10] in listing

    key_id = re.search(r"/settings/keys/([0-9a-f-]{36})/revoke", listing)
    assert key_id is not None
    assert (
        editor.post(owner.path(f"/settings/keys/{key_id.group(1)}/revoke"), {}).status_code == 403
    )
    assert editor.post(editor.path("/settings/keys"), {"name": "x"}).status_code == 403
    assert "/settings/keys" not in editor.client.get(editor.path("/settings")).text
    revoked = owner.post(owner.path(f"/settings/keys/{key_id.group(1)}/revoke"), {})
    assert revoked.status_code == 303
    assert client.get("/v1/project", headers=headers).status_code == 401
    bad = owner.post(owner.path("/settings/keys"), {"name": "", "scope": "root"})
    assert bad.status_code == 422 and 'class="field-error"' in bad.text


def test_roles_change_and_the_last_owner_stays(
    owner: Person, editor: Person, api_settings: Settings
) -> None:
    ids = dict(_sql(api_settings, "SELECT email, id FROM users WHERE email IN (%s, %s)",
                    owner.email, editor.email))  # fmt: skip
    me, them = ids[owner.email], ids[editor.email]
    demote = owner.post(owner.path(f"/settings/members/{me}/role"), {"role": "editor"})
    assert demote.status_code == 409 and "keeps at least one owner" in demote.text
    gone = owner.post(owner.path(f"/settings/members/{me}/remove"), {})
    assert gone.status_code == 409
    assert (
        editor.post(editor.path(f"/settings/members/{them}/role"), {"role": "owner"}).status_code
        == 403
    )

    promoted = owner.post(owner.path(f"/settings/members/{them}/role"), {"role": "owner"})
    assert promoted.status_code == 303
    assert (
        owner.post(owner.path(f"/settings/members/{me}/role"), {"role": "viewer"}).status_code
        == 303
    )
    assert "Only owners" in owner.client.get(owner.path("/settings")).text
    audit = editor.client.get(editor.path("/audit")).text
    assert "change_role member" in audit and "&#34;viewer&#34;" in audit


def test_invitation_link_works_once_and_expires(
    owner: Person, client: TestClient, api_settings: Settings
) -> None:
    email = new_email("invited")
    made = owner.post(owner.path("/settings/invitations"), {"email": email, "role": "editor"})
    assert made.status_code == 201
    link = re.search(r"/console/invite/([A-Za-z0-9_-]{30,})", made.text)
    assert link is not None
    path = link.group(0)
    guest = TestClient(client.app, follow_redirects=False)
    page = guest.get(path)
    assert page.status_code == 200 and email in page.text and "editor" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "password": PASSWORD, "confirm": PASSWORD}
    differ = guest.post(path, data={**form, "confirm": PASSWORD + "x"})
    assert differ.status_code == 422
    joined = guest.post(path, data=form)
    assert joined.status_code == 303 and joined.headers["location"] == owner.path()
    assert guest.get(owner.path()).status_code == 200
    assert TestClient(client.app).get(path).status_code == 410
    assert guest.post(path, data=form).status_code in (403, 409, 410)

    late = owner.post(
        owner.path("/settings/invitations"), {"email": new_email("late"), "role": "viewer"}
    )
    late_path = re.search(r"/console/invite/[A-Za-z0-9_-]{30,}", late.text)
    assert late_path is not None
    expire = (
        "UPDATE invitations SET expires_at = now() - interval '1 minute'"
        " WHERE project_id = %s AND used_at IS NULL RETURNING 1"
    )
    _sql(api_settings, expire, uuid.UUID(owner.project_id))
    assert TestClient(client.app).get(late_path.group(0)).status_code == 410


def test_signed_in_invitee_joins_with_their_account(
    owner: Person, viewer: Person, api_settings: Settings
) -> None:
    other = uuid.UUID(_sql(api_settings, "INSERT INTO projects (name) VALUES (%s) RETURNING id",
                           f"other-{uuid.uuid4().hex[:6]}")[0][0].hex)  # fmt: skip
    _sql(api_settings, "INSERT INTO memberships (user_id, project_id, role) SELECT id, %s, 'owner'"
         " FROM users WHERE email = %s RETURNING 1", other, owner.email)  # fmt: skip
    made = owner.post(f"/console/p/{other}/settings/invitations",
                      {"email": viewer.email, "role": "viewer"})  # fmt: skip
    path = re.search(r"/console/invite/[A-Za-z0-9_-]{30,}", made.text)
    assert path is not None
    page = viewer.client.get(path.group(0))
    assert "Join other-" in page.text
    joined = viewer.post(path.group(0) + "/join", {})
    assert joined.status_code == 303 and joined.headers["location"] == f"/console/p/{other}"
    assert viewer.client.get(f"/console/p/{other}").status_code == 200


def test_channel_create_test_send_log_and_redeliver(
    editor: Person, viewer: Person, receiver: Receiver, api_settings: Settings
) -> None:
    form = {"kind": "webhook", "name": "ops hook", "config.url": receiver.url,
            "config.format": "callprobe"}  # fmt: skip
    made = editor.post(editor.path("/settings/channels/new"), form)
    assert made.status_code == 201, made.text
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", made.text)
    assert secret is not None
    channel = re.search(r"/settings/channels/([0-9a-f-]{36})/test", made.text)
    assert channel is not None
    base = editor.path(f"/settings/channels/{channel.group(1)}")
    assert secret.group(0) not in editor.client.get(base).text

    tested = editor.post(base + "/test", {})
    assert tested.status_code == 200
    assert "delivered</span>" in tested.text and "HTTP 200" in tested.text
    assert len(receiver.accepted()) == 1
    receiver.script = lambda request: Answer(status=500)
    failed = editor.post(base + "/test", {})
    assert "dead</span>" in failed.text and "HTTP 500" in failed.text

    log = editor.client.get(base).text
    assert log.count(">Redeliver</button>") == 2
    delivery = re.search(r"/deliveries/([0-9a-f-]{36})/redeliver", log)
    assert delivery is not None
    again = editor.post(base + f"/deliveries/{delivery.group(1)}/redeliver", {})
    assert again.status_code == 303
    assert "pending</span>" in editor.client.get(base).text

    paused = editor.post(base + "/pause", {})
    assert paused.status_code == 303
    listing = editor.client.get(editor.path("/settings/channels")).text
    assert "paused</span>" in listing and "ops hook" in listing

    assert viewer.post(base + "/test", {}).status_code == 403
    assert ">Send a test notice<" not in viewer.client.get(base).text
    bad = editor.post(editor.path("/settings/channels/new"), {**form, "config.url": "ftp://x"})
    assert bad.status_code == 422 and 'class="field-error"' in bad.text
    entries = _sql(api_settings, "SELECT before::text, after::text FROM audit_log"
                   " WHERE project_id = %s", uuid.UUID(editor.project_id))  # fmt: skip
    assert secret.group(0) not in str(entries)


def test_audit_page_is_for_owners_with_diff_and_csv(owner: Person, editor: Person) -> None:
    editor.post(editor.path("/agents/locations"), {"name": "ams"})
    assert editor.client.get(editor.path("/audit")).status_code == 403
    assert editor.client.get(editor.path("/audit/export.csv")).status_code == 403
    page = owner.client.get(owner.path("/audit"))
    assert page.status_code == 200
    assert f"<td>{editor.email}</td>" in page.text and "create location" in page.text
    assert "<ins>&#34;ams&#34;</ins>" in page.text
    exported = owner.client.get(owner.path("/audit/export.csv"))
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["actor"] == editor.email and rows[0]["via"] == "console"


def test_audit_page_refuses_a_cursor_past_bigint(owner: Person) -> None:
    assert owner.client.get(owner.path("/audit"), params={"before": 2**63}).status_code == 422
    assert owner.client.get(owner.path("/audit"), params={"before": 2**63 - 1}).status_code == 200
