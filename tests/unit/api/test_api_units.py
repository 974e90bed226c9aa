"""Pure pieces of the API: target checks, tokens, secrets at rest, the error body."""

from __future__ import annotations

import json
import secrets
import stat
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from api.errors import error_response
from api.routes.probes import check_target
from api.security.auth import API_KEY_PREFIX, PREFIX_LEN, hash_token, new_token
from api.security.crypto import KEY_FILE, SecretKeyError, check_key, decrypt_secret, encrypt_secret
from api.services.judging import Probe
from api.settings import Settings
from store.health import ProbeHealthConfig
from thresholds.policy import history_depth as thresholds_history_depth


@pytest.mark.parametrize(
    ("kind", "target", "ok"),
    [
        ("sip_call", "sip:echo@127.0.0.1:5080", True),
        ("sip_options", "sip:pbx.example.com;transport=tcp", True),
        ("sip_register", "tel:+123", False),
        ("sip_call", "", False),
        ("http", "https://example.com/health", True),
        ("http", "http://[::1]:8080/", True),
        ("http", "example.com", False),
        ("http", "http://example.com:99999/", False),
        ("tcp", "example.com:5060", True),
        ("tcp", "[2001:db8::1]:443", True),
        ("tcp", "example.com", False),
        ("tcp", "example.com:0", False),
        ("tcp", "bad_host!:80", False),
        ("icmp", "10.0.0.1", True),
        ("icmp", "router.lan", True),
        ("icmp", "a" * 300, False),
        ("icmp", "-bad-.example", False),
        ("push", "", True),
        ("push", "x", False),
    ],
)
def test_check_target(kind: str, target: str, ok: bool) -> None:
    assert (check_target(kind, target) is None) is ok


def test_tokens_are_random_prefixed_and_hashed() -> None:
    first, second = new_token(API_KEY_PREFIX), new_token(API_KEY_PREFIX)
    assert first.token != second.token and first.token.startswith("cp_")
    assert len(first.token) >= 3 + 43 and first.prefix == first.token[:PREFIX_LEN]
    assert first.hash == hash_token(first.token) and len(first.hash) == 32


def test_generated_key_file_is_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(database_url="unused", data_dir=tmp_path / "data")
    ciphertext = encrypt_secret(settings, "hunter2")
    key_file = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"hunter2" not in ciphertext
    assert decrypt_secret(settings, ciphertext) == "hunter2"


def test_configured_key_is_used_and_checked(tmp_path: Path) -> None:
    good = Settings(
        database_url="unused", data_dir=tmp_path,
        secret_key=SecretStr("5x5AqYtB3SNd0XbVqIY0GH1Tm2H6qBa9v0Wp7Y8m3Qk="),
    )  # fmt: skip
    assert decrypt_secret(good, encrypt_secret(good, "s")) == "s"
    assert not (tmp_path / KEY_FILE).exists()
    with pytest.raises(SecretKeyError):
        check_key(good.model_copy(update={"secret_key": SecretStr("not-a-key")}))
    other = good.model_copy(update={"secret_key": None})
    with pytest.raises(SecretKeyError):
        decrypt_secret(other, encrypt_secret(good, "s"))


def test_error_body_shape() -> None:
    response = error_response(404, "probe not found")
    assert response.status_code == 404
    assert json.loads(response.body) == {
        "error": {"code": "not_found", "message": "probe not found", "details": []}
    }


@pytest.mark.parametrize("token", ["changeme", "x" * 40, "admin-admin-admin-admin-"])
def test_a_guessable_admin_token_is_refused(token: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CALLPROBE_ADMIN_TOKEN must be at least 24"):
        Settings(database_url="unused", data_dir=tmp_path, admin_token=SecretStr(token))


def test_a_random_admin_token_is_accepted(tmp_path: Path) -> None:
    token = secrets.token_urlsafe(32)
    settings = Settings(database_url="unused", data_dir=tmp_path, admin_token=SecretStr(token))
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == token


def test_an_asr_rule_widens_the_history_to_its_window() -> None:
    def config(rules: list[dict[str, object]]) -> ProbeHealthConfig:
        return ProbeHealthConfig(
            probe_id=uuid.uuid4(), project_id=uuid.uuid4(), name="p", kind="sip_call",
            interval_s=60, policy={"asr_window": 25}, options={}, rules=rules, locations=[],
        )  # fmt: skip

    def history_depth(config: ProbeHealthConfig) -> int:
        probe = Probe.of(config)
        return thresholds_history_depth(probe.policy, probe.rules)

    assert history_depth(config([{"metric": "mos", "warning": 4.0}])) == 6
    assert history_depth(config([{"metric": "asr_pct", "warning": 90.0}])) == 25
