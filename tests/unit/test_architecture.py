"""The guard rails: ARCHITECTURE.md names only what exists, pyproject.toml's import
contracts say what its table says, and the contracts hold (so ``pytest`` alone fails
when an import rule is broken)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
LINTER: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
    "tool"
]["importlinter"]
NOT_PRODUCT = {"tests", "bench"}


def _table() -> dict[str, set[str]]:
    """ARCHITECTURE.md's table: each package and the backticked names it may import."""
    rows = re.findall(r"^\| `(\w+)/` \|[^|]*\| ([^|]*) \|$", DOC, re.MULTILINE)
    return {package: set(re.findall(r"`([\w.]+)`", allowed)) for package, allowed in rows}


def _contract_of(package: str) -> dict[str, Any]:
    (contract,) = (c for c in LINTER["contracts"] if c["source_modules"] == [package])
    return contract


def test_import_contracts_are_kept() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [linter, "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_package_is_under_the_contracts() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - NOT_PRODUCT
    assert set(LINTER["root_packages"]) == packages
    assert set(_table()) == packages


@pytest.mark.parametrize("package", sorted(set(_table()) - {"api"}))
def test_contract_says_what_the_table_says(package: str) -> None:
    allowed = _table()[package]
    contract = _contract_of(package)
    roots = set(LINTER["root_packages"])
    allowed_packages = allowed & roots
    modules = allowed - roots
    forbidden = roots - allowed_packages - {package}
    assert set(contract["forbidden_modules"]) & roots == forbidden
    assert set(contract.get("ignore_imports", [])) == {f"{package}.** -> {m}" for m in modules}


def test_modules_allowed_by_name_import_nothing_of_ours() -> None:
    modules = set().union(*_table().values()) - set(LINTER["root_packages"])
    (contract,) = (c for c in LINTER["contracts"] if set(c["source_modules"]) == modules)
    others = set(LINTER["root_packages"]) - {m.split(".")[0] for m in modules}
    assert set(contract["forbidden_modules"]) >= others | {f"{m.split('.')[0]}.*" for m in modules}


def test_architecture_names_only_paths_that_exist() -> None:
    paths = set(re.findall(r"`([\w./-]+(?:/|\.py))`", DOC))
    assert len(paths) > 20
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []
