"""docker/: every Dockerfile passes hadolint (each ignored rule says why on the line
above), the proxy's Caddyfile is the shared generator's output, and the image's and
compose's commands are exactly the ``callprobe`` CLI's."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no stubs in the dev extra
from typer.testing import CliRunner

from api.cli.caddyfile import ProxyConfig, caddyfile
from api.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DOCKERFILES = sorted(DOCKER.rglob("Dockerfile"))
HADOLINT = Path(sys.executable).parent / "hadolint"
IGNORE = re.compile(r"#\s*hadolint ignore=([\w,]+)")
COMPOSE: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
DEFAULTED = re.compile(r"\$\{\w+:-([^}]*)\}")


def _instruction(dockerfile: Path, name: str) -> list[str]:
    """The JSON (exec) form of the last ``name`` instruction, e.g. ENTRYPOINT."""
    lines = [
        ln for ln in dockerfile.read_text(encoding="utf-8").splitlines() if ln.startswith(name)
    ]
    value: list[str] = json.loads(lines[-1].removeprefix(name))
    return value


def test_there_are_the_three_images() -> None:
    assert [p.relative_to(DOCKER).as_posix() for p in DOCKERFILES] == [
        "Dockerfile",
        "caddy/Dockerfile",
        "timescaledb/Dockerfile",
    ]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_passes(dockerfile: Path) -> None:
    done = subprocess.run(
        [str(HADOLINT), "--no-color", str(dockerfile)], check=False, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_every_ignored_rule_is_justified_on_the_line_above(dockerfile: Path) -> None:
    lines = dockerfile.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines):
        if match := IGNORE.match(line):
            for rule in match[1].split(","):
                assert rule in lines[n - 1] and lines[n - 1].startswith("#"), (n, line)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_final_stage_runs_as_a_numeric_non_root_user_with_a_health_check(
    dockerfile: Path,
) -> None:
    final = dockerfile.read_text(encoding="utf-8").rsplit("\nFROM ", 1)[-1]
    user = re.search(r"^USER (\d+):\d+$", final, re.MULTILINE)
    assert user and int(user[1]) != 0
    assert "\nHEALTHCHECK " in final
    assert not re.search(r"\b(gcc|g\+\+|make|cmake|build-essential)\b", final)


def test_the_page_process_shares_the_apis_settings_and_neither_judges_nor_notifies() -> None:
    api, pages = COMPOSE["services"]["api-1"], COMPOSE["services"]["pages-1"]
    assert pages["command"] == api["command"] and pages["secrets"] == api["secrets"]
    off = {"CALLPROBE_JUDGING": "false", "CALLPROBE_NOTIFY_DISPATCH": "false"}
    assert pages["environment"] == {**api["environment"], **off}
    assert "pages-1" in COMPOSE["services"]["proxy"]["depends_on"]


def test_the_caddyfile_is_the_shared_generators_output() -> None:
    expected = caddyfile(
        ProxyConfig(
            upstreams=("api-1:8080", "api-2:8080"),
            page_upstreams=("pages-1:8080",),
            http_port=8080,
            https_port=8443,
        )
    )
    written = (DOCKER / "caddy" / "Caddyfile").read_text(encoding="utf-8")
    assert written == expected, "regenerate docker/caddy/Caddyfile from api.cli.caddyfile"


def test_the_image_runs_the_cli_and_serves_by_default() -> None:
    image = DOCKER / "Dockerfile"
    assert _instruction(image, "ENTRYPOINT") == ["callprobe"]
    assert _instruction(image, "CMD") == ["serve", "--host", "0.0.0.0"]
    result = CliRunner().invoke(app, [*_instruction(image, "CMD"), "--help"])
    assert result.exit_code == 0, result.output


def _callprobe_commands() -> dict[str, list[str]]:
    """Each compose service running the callprobe image: its command, defaults filled in."""
    return {
        name: [DEFAULTED.sub(r"\1", part) for part in service["command"]]
        for name, service in COMPOSE["services"].items()
        if "CALLPROBE_IMAGE" in service["image"]
    }


def test_compose_runs_serve_agent_and_migrate_with_options_the_cli_has() -> None:
    commands = _callprobe_commands()
    assert sorted(commands) == ["agent-ams", "agent-fra", "api-1", "api-2", "migrate", "pages-1"]
    for name, command in commands.items():
        result = CliRunner().invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (name, result.output)


@pytest.mark.parametrize(
    "script", [*sorted(DOCKER.glob("*.sh")), DOCKER / "timescaledb" / "entrypoint.sh"]
)
def test_shell_scripts_parse(script: Path) -> None:
    done = subprocess.run(["bash", "-n", str(script)], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
