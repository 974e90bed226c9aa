"""Config validation and the argparse → RelayConfig mapping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from peers.impairment.cli import config_from_args
from peers.impairment.config import GilbertElliott, Impairment, JitterDistribution, RelayConfig


@pytest.mark.parametrize(
    "fields",
    [
        {"loss_pct": 100.5},
        {"loss_pct": -1},
        {"delay_ms": -0.1},
        {"jitter_ms": -5},
        {"reorder_pct": 101},
        {"duplicate_pct": -2},
        {"gilbert_elliott": {"p": 1.2, "r": 0.5}},
        {"gilbert_elliott": {"p": 0.1, "r": 0.5, "loss_bad": 2}},
        {"gilbert_elliott": {"p": 0.1}},
        {"unknown": 1},
    ],
)
def test_impairment_validation(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Impairment.model_validate(fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"listen_host": "0.0.0.0"},
        {"listen_host": "::1"},
        {"listen_host": "localhost"},
        {"rtp_port_range": (40001, 40003)},
        {"rtp_port_range": (40010, 40000)},
        {"listen_port": 70000},
        {"call_idle_timeout_s": 0},
    ],
)
def test_relay_config_validation(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RelayConfig.model_validate(fields)


def test_defaults_change_nothing() -> None:
    config = RelayConfig()

    assert config.to_target == config.to_client == Impairment()
    assert (config.listen_host, config.listen_port) == ("127.0.0.1", 5070)


def test_flags_for_both_directions_and_overrides_for_one() -> None:
    config = config_from_args(
        [
            "--listen", "127.0.0.2:6070",
            "--target", "127.0.0.3:6080",
            "--rtp-ports", "46000-46099",
            "--delay-ms", "20",
            "--delay-ms-to-client", "50",
            "--loss-to-target", "3.5",
            "--jitter-ms", "10",
            "--jitter-dist-to-target", "normal",
            "--preserve-order-to-client",
            "--reorder", "1",
            "--duplicate-to-target", "2",
            "--seed", "9",
            "--impair-rtcp",
            "--stats-json", "/tmp/relay.json",
        ]
    )  # fmt: skip

    assert (config.listen_host, config.listen_port) == ("127.0.0.2", 6070)
    assert (config.target_host, config.target_port) == ("127.0.0.3", 6080)
    assert config.rtp_port_range == (46000, 46099)
    assert config.to_target == Impairment(
        delay_ms=20,
        loss_pct=3.5,
        jitter_ms=10,
        jitter_distribution=JitterDistribution.NORMAL,
        reorder_pct=1,
        duplicate_pct=2,
    )
    assert config.to_client == Impairment(
        delay_ms=50, jitter_ms=10, preserve_order=True, reorder_pct=1
    )
    assert config.seed == 9
    assert config.impair_rtcp
    assert config.stats_path == Path("/tmp/relay.json")


def test_gilbert_elliott_flags() -> None:
    config = config_from_args(
        [
            "--ge-p",
            "0.01",
            "--ge-r",
            "0.3",
            "--ge-loss-bad-to-client",
            "0.8",
            "--loss-to-client",
            "1",
        ]
    )

    assert config.to_target.gilbert_elliott == GilbertElliott(p=0.01, r=0.3)
    assert config.to_client.gilbert_elliott == GilbertElliott(p=0.01, r=0.3, loss_bad=0.8)
    assert config.to_client.loss_pct == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["--loss", "150"],
        ["--ge-p", "0.1"],
        ["--listen", "nohost"],
        ["--rtp-ports", "40000"],
        ["--delay-ms-to-client", "-3"],
        ["--listen", "0.0.0.0:5070"],
    ],
)
def test_bad_flags_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        config_from_args(argv)

    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err
