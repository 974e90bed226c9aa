"""Probes in the console: the list and its filters, the create and edit forms (messages
beside the fields, write-only secrets), the thresholds editor with presets, enable,
delete and Run now; viewers see everything read-only and are refused every change."""

from __future__ import annotations

import html
import re
import time
import uuid
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.settings import Settings
from tests.conftest import Cluster, Run
from tests.integration.console.conftest import Person, person

pytestmark = pytest.mark.db

SIP_CALL = {
    "kind": "sip_call", "name": "Trunk A", "target": "sip:echo@127.0.0.1:5280",
    "interval_s": "30", "timeout_s": "10", "enabled": "on", "tags": "trunks, carrier-a",
    "options.codec": "PCMA", "options.talk_s": "8", "options.transport": "",
    "options.registrar": "", "options.username": "alice", "options.realm": "*",
    "options.follow_redirects": "0",
}  # fmt: skip


def _sql(db: Cluster, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def _location(db: Cluster, person: Person) -> str:
    name = f"loc-{uuid.uuid4().hex[:8]}"
    _sql(db, "INSERT INTO locations (project_id, name) VALUES (%s, %s)", person.project_id, name)
    return name


def _make(person: Person, db: Cluster, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A probe made through the form; its id and stored row (as a dict)."""
    name = fields.pop("name", f"probe-{uuid.uuid4().hex[:8]}")
    response = person.post(person.path("/probes/new"), {**SIP_CALL, "name": name, **fields})
    assert response.status_code == 303, response.text
    return _stored(db, person, name)


def _stored(db: Cluster, person: Person, name: str) -> tuple[str, dict[str, Any]]:
    query = (
        "SELECT id, kind, target, interval_s, timeout_s, enabled, options, tags,"
        " secret IS NOT NULL FROM probes WHERE project_id = %s AND name = %s"
    )
    [row] = _sql(db, query, person.project_id, name)
    keys = ("kind", "target", "interval_s", "timeout_s", "enabled", "options", "tags", "secret")
    return str(row[0]), dict(zip(keys, row[1:], strict=True))


def _value(page: str, name: str) -> str:
    """The value attribute of the input called ``name``."""
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    assert match, f"no input {name}"
    return html.unescape(match.group(1))


def _beside(page: str, field_id: str) -> str:
    """The message shown beside the field with ``field_id``."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">([^<]*)</p>', page)
    assert match, f"no message beside {field_id}"
    return html.unescape(match.group(1))


def test_a_sip_call_probe_is_created_from_the_form_and_audited(editor: Person, db: Cluster) -> None:
    place = _location(db, editor)
    form = {**SIP_CALL, "locations": [place], "secret": "s3cret-pass"}
    response = editor.post(editor.path("/probes/new"), form)
    assert response.status_code == 303
    assert response.headers["location"] == editor.path("/probes?done=created")
    probe_id, row = _stored(db, editor, "Trunk A")
    assert (row["kind"], row["target"], row["interval_s"], row["timeout_s"]) == (
        "sip_call", "sip:echo@127.0.0.1:5280", 30, 10.0)  # fmt: skip
    assert row["options"] == {"codec": "PCMA", "talk_s": 8.0, "username": "alice",
                              "realm": "*", "follow_redirects": 0}  # fmt: skip
    assert (row["tags"], row["enabled"], row["secret"]) == (["trunks", "carrier-a"], True, True)
    [[where]] = _sql(db, "SELECT l.name FROM probe_locations pl JOIN locations l"
                         " ON l.id = pl.location_id WHERE pl.probe_id = %s", probe_id)  # fmt: skip
    assert where == place
    [entry] = _sql(db, "SELECT actor, via, action, after FROM audit_log WHERE target_id = %s",
                   probe_id)  # fmt: skip
    assert entry[:3] == (editor.email, "console", "create")
    assert "s3cret-pass" not in str(entry[3])
    listed = editor.client.get(response.headers["location"]).text
    assert "Probe created." in listed and "Trunk A" in listed
    edit = editor.client.get(editor.path(f"/probes/{probe_id}/edit")).text
    assert "s3cret-pass" not in edit and "A password is stored" in edit
    assert _value(edit, "secret") == "" and _value(edit, "options.username") == "alice"


def test_a_bad_form_comes_back_with_messages_beside_the_fields(editor: Person) -> None:
    form = {**SIP_CALL, "name": "My <trunk>", "target": "", "interval_s": "1",
            "options.talk_s": "1", "secret": "typed-secret"}  # fmt: skip
    response = editor.post(editor.path("/probes/new"), form)
    assert response.status_code == 422
    page = response.text
    assert _beside(page, "target") == "a target is required"
    assert "greater than or equal to 5" in _beside(page, "interval_s")
    assert "greater than or equal to 2" in _beside(page, "o-talk_s")
    assert _value(page, "name") == "My <trunk>" and "My &lt;trunk&gt;" in page
    assert (_value(page, "interval_s"), _value(page, "options.talk_s")) == ("1", "1")
    assert "typed-secret" not in page


def test_each_kind_has_its_own_fields(editor: Person) -> None:
    pages = {kind: editor.client.get(editor.path(f"/probes/new?kind={kind}")).text
             for kind in ("sip_register", "http", "icmp", "push")}  # fmt: skip
    register, web = pages["sip_register"], pages["http"]
    assert 'name="options.username"' in register and 'name="secret"' in register
    assert 'name="options.accepted_status"' in web and 'name="secret"' not in web
    assert _value(pages["icmp"], "options.count") == "5"
    assert 'name="target"' not in pages["push"] and 'name="options.dead_after_s"' in pages["push"]


def test_an_empty_secret_keeps_it_and_a_new_destination_clears_it(
    editor: Person, db: Cluster
) -> None:
    probe_id, _ = _make(editor, db, secret="first-secret")
    edit = editor.path(f"/probes/{probe_id}/edit")
    kept = editor.post(edit, {**SIP_CALL, "name": "kept", "secret": ""})
    assert kept.status_code == 303
    assert _stored(db, editor, "kept")[1]["secret"] is True
    moved = editor.post(edit, {**SIP_CALL, "name": "moved", "target": "sip:other@127.0.0.1:5999"})
    assert moved.status_code == 200
    assert "where it is sent changed" in _beside(moved.text, "secret")
    assert _stored(db, editor, "moved")[1]["secret"] is False


def test_a_preset_fills_the_thresholds_in_and_saving_stores_them(
    editor: Person, db: Cluster
) -> None:
    probe_id, _ = _make(editor, db)
    path = editor.path(f"/probes/{probe_id}/thresholds")
    page = editor.client.get(f"{path}?preset=carrier_g711").text
    bounds = {m: (_value(page, f"warning.{m}"), _value(page, f"critical.{m}"))
              for m in ("mos", "loss_pct", "jitter_ms", "pdd_ms")}  # fmt: skip
    assert bounds == {"mos": ("4", "3.6"), "loss_pct": ("1", "3"), "jitter_ms": ("20", "40"),
                      "pdd_ms": ("3000", "6000")}  # fmt: skip
    form = {f"{level}.{m}": v for m, pair in bounds.items() for level, v in
            zip(("warning", "critical"), pair, strict=True)}  # fmt: skip
    saved = editor.post(path, {**form, "warning.mos": "3.9"})
    assert saved.status_code == 303
    rules = "SELECT metric, warning, critical FROM thresholds WHERE probe_id = %s ORDER BY metric"
    assert _sql(db, rules, probe_id) == [("jitter_ms", 20, 40), ("loss_pct", 1, 3),
                                         ("mos", 3.9, 3.6), ("pdd_ms", 3000, 6000)]  # fmt: skip
    bad = editor.post(path, {**form, "warning.mos": "3.0", "critical.mos": "3.5"})
    assert bad.status_code == 422
    assert "must be at or below warning" in _beside(bad.text, "critical-mos")
    assert _value(bad.text, "warning.mos") == "3.0"
    emptied = editor.post(path, {**form, "warning.mos": "", "critical.mos": ""})
    assert emptied.status_code == 303
    assert [r[0] for r in _sql(db, rules, probe_id)] == ["jitter_ms", "loss_pct", "pdd_ms"]


def test_run_now_queues_a_run_at_each_location(editor: Person, db: Cluster) -> None:
    places = [_location(db, editor), _location(db, editor)]
    probe_id, _ = _make(editor, db, locations=places, interval_s="3600")
    _sql(db, "UPDATE schedules SET next_due = now() + interval '1 hour' WHERE probe_id = %s",
         probe_id)  # fmt: skip
    response = editor.post(editor.path(f"/probes/{probe_id}/run"), {})
    assert response.status_code == 303
    assert response.headers["location"].startswith(editor.path(f"/probes/{probe_id}?queued=2"))
    detail = editor.client.get(response.headers["location"]).text
    assert "Run queued at 2 locations: its result appears here when it arrives" in detail
    assert 'id="results-region" data-refresh="10"' in detail
    due = "SELECT count(*) FROM schedules WHERE probe_id = %s AND next_due <= now()"
    assert _sql(db, due, probe_id) == [(2,)]
    idle, _ = _make(editor, db)  # no location
    refused = editor.post(editor.path(f"/probes/{idle}/run"), {})
    assert refused.status_code == 409 and "no location" in refused.text


def test_enable_disable_and_delete(editor: Person, db: Cluster) -> None:
    probe_id, _ = _make(editor, db, name="toggled")
    off = editor.post(editor.path(f"/probes/{probe_id}/enabled"), {"enabled": "false"})
    assert off.status_code == 303 and _stored(db, editor, "toggled")[1]["enabled"] is False
    editor.post(editor.path(f"/probes/{probe_id}/enabled"), {"enabled": "true"})
    assert _stored(db, editor, "toggled")[1]["enabled"] is True
    listed = editor.client.get(editor.path("/probes")).text
    assert 'data-confirm="Delete the probe toggled' in listed
    assert editor.post(editor.path(f"/probes/{probe_id}/delete"), {}).status_code == 303
    assert _sql(db, "SELECT 1 FROM probes WHERE id = %s", probe_id) == []


def test_a_viewer_sees_read_only_pages_and_every_change_is_refused(
    editor: Person, viewer: Person, db: Cluster
) -> None:
    probe_id, _ = _make(editor, db, name="watched", secret="x-secret")
    listed = viewer.client.get(viewer.path("/probes")).text
    assert "watched" in listed and "New probe" not in listed
    assert 'method="post"' not in listed.split("<main", 1)[1]
    edit = viewer.client.get(viewer.path(f"/probes/{probe_id}/edit")).text
    assert '<fieldset class="card" disabled>' in edit and "Save</button>" not in edit
    rules = viewer.client.get(viewer.path(f"/probes/{probe_id}/thresholds")).text
    assert "Save thresholds" not in rules and "preset=" not in rules
    for rest, form in [
        ("/probes/new", SIP_CALL), (f"/probes/{probe_id}/edit", {**SIP_CALL, "name": "x"}),
        (f"/probes/{probe_id}/enabled", {"enabled": "false"}), (f"/probes/{probe_id}/run", {}),
        (f"/probes/{probe_id}/delete", {}),
        (f"/probes/{probe_id}/thresholds", {"warning.mos": "4"}),
    ]:  # fmt: skip
        assert viewer.post(viewer.path(rest), form).status_code == 403, rest
    assert _stored(db, editor, "watched")[1]["enabled"] is True
    assert _sql(db, "SELECT count(*) FROM thresholds WHERE probe_id = %s", probe_id) == [(0,)]


def test_a_form_without_its_csrf_token_is_refused(editor: Person, db: Cluster) -> None:
    probe_id, _ = _make(editor, db, name="guarded")
    forged = editor.client.post(editor.path(f"/probes/{probe_id}/delete"), data={})
    assert forged.status_code == 403
    wrong = editor.client.post(editor.path("/probes/new"), data={**SIP_CALL, "csrf": "nope"})
    assert wrong.status_code == 403
    assert len(_sql(db, "SELECT 1 FROM probes WHERE id = %s", probe_id)) == 1


def _judged(db: Cluster, probe_id: str) -> None:
    """Wait until the app's judging loop has judged the new probe (and holds no mark)."""
    query = (
        "SELECT (SELECT count(*) FROM probe_health WHERE probe_id = %s AND location = ''),"
        " (SELECT count(*) FROM judging_queue WHERE probe_id = %s)"
    )
    deadline = time.monotonic() + 10
    while _sql(db, query, probe_id, probe_id) != [(1, 0)]:
        assert time.monotonic() < deadline, "the new probe was never judged"
        time.sleep(0.05)


def test_the_list_filters_by_kind_state_location_and_tag(editor: Person, db: Cluster) -> None:
    place = _location(db, editor)
    _make(editor, db, name="call-a", tags="voice", locations=[place])
    web, _ = _make(editor, db, kind="http", name="web-b", target="https://example.test/",
                   tags="web")  # fmt: skip
    _judged(db, web)  # a new probe is judged once; its state is then set by hand
    _sql(db, "UPDATE probe_health SET state = 'degraded' WHERE probe_id = %s AND location = ''",
         web)  # fmt: skip

    def names(query: str) -> list[str]:
        page = editor.client.get(editor.path(f"/probes?{query}")).text
        return re.findall(r'<td><a href="[^"]+/probes/[0-9a-f-]{36}">([^<]+)</a></td>', page)

    assert names("") == ["call-a", "web-b"]
    assert names("kind=http") == ["web-b"]
    assert names("state=degraded") == ["web-b"]
    assert names("state=unknown") == ["call-a"]
    assert names(f"location={place}") == ["call-a"]
    assert names("tag=voice") == ["call-a"]
    page = editor.client.get(editor.path("/probes?state=degraded")).text
    assert '<span class="state st-degraded">degraded</span>' in page


def test_another_projects_probe_is_not_found_and_not_touched(
    editor: Person, db: Cluster, run: Run[Any], client: TestClient, api_settings: Settings
) -> None:
    probe_id, _ = _make(editor, db, name="theirs")
    [[elsewhere]] = _sql(db, "INSERT INTO projects (name) VALUES (%s) RETURNING id", "elsewhere")
    stranger = person(run, client, api_settings, "owner", elsewhere)
    for rest in (f"/probes/{probe_id}/edit", f"/probes/{probe_id}/thresholds"):
        assert stranger.client.get(stranger.path(rest)).status_code == 404, rest
    for rest, form in [
        (f"/probes/{probe_id}/edit", SIP_CALL), (f"/probes/{probe_id}/enabled", {}),
        (f"/probes/{probe_id}/run", {}), (f"/probes/{probe_id}/delete", {}),
        (f"/probes/{probe_id}/thresholds", {"warning.mos": "4"}),
    ]:  # fmt: skip
        response = stranger.post(stranger.path(rest), form)
        assert response.status_code == 404 and "no such probe" in response.text, rest
    assert _stored(db, editor, "theirs")[1]["enabled"] is True
