"""A durable on-disk spool of results that could not be delivered yet.

One file per result, ``<run_id>.json``, holding one JSON line. Each file is
written under a temporary name, fsync'd, renamed into place and the directory
fsync'd: after a crash a result is either wholly in the spool or ``spool()`` had
not returned. Spooling a run twice keeps one file, so replays are idempotent by
``run_id`` just like the results table. One process writes a spool directory.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from probes.result import CallResult

log = logging.getLogger(__name__)

_TMP_PREFIX = ".partial-"
REJECTED_DIR = "rejected"
"""Unreadable files, and results the API refused for good, are kept here for a human,
so they never block a drain and are never replayed."""


class Spool:
    """Results waiting for delivery, kept until acknowledged."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        for partial in directory.glob(f"{_TMP_PREFIX}*"):
            partial.unlink()

    def spool(self, result: CallResult) -> None:
        """Keep one result durably."""
        self.spool_all([result])

    def spool_all(self, results: Iterable[CallResult]) -> int:
        """Keep several results durably (one directory fsync for all); return the count."""
        count = 0
        for result in results:
            self._write(result)
            count += 1
        _fsync_directory(self.directory)
        return count

    def set_aside(self, refused: Iterable[tuple[CallResult, str]]) -> None:
        """Keep results the API refused for good, each with the reason, under ``rejected/``."""
        rejected = self.directory / REJECTED_DIR
        rejected.mkdir(exist_ok=True)
        for result, reason in refused:
            record = {"reason": reason, "result": result.to_json()}
            _write_durably(rejected / f"{result.run_id}.json", json.dumps(record) + "\n")
            log.warning("refused result set aside", extra={"run_id": str(result.run_id)})
        _fsync_directory(rejected)

    def pending(self) -> list[CallResult]:
        """Every spooled result, oldest first."""
        found = (self._read(path) for path in self.directory.glob("*.json"))
        results = [result for result in found if result is not None]
        return sorted(results, key=lambda result: (result.started_at, str(result.run_id)))

    def acknowledge(self, run_ids: Iterable[uuid.UUID]) -> None:
        """Forget delivered results; unknown run ids are ignored."""
        for run_id in run_ids:
            self._path(run_id).unlink(missing_ok=True)
        _fsync_directory(self.directory)

    def _path(self, run_id: uuid.UUID) -> Path:
        return self.directory / f"{run_id}.json"

    def _write(self, result: CallResult) -> None:
        _write_durably(self._path(result.run_id), json.dumps(result.to_json()) + "\n")

    def _read(self, path: Path) -> CallResult | None:
        try:
            return CallResult.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None  # acknowledged meanwhile
        except (ValueError, TypeError, KeyError) as exc:
            self._reject(path, exc)
            return None

    def _reject(self, path: Path, exc: Exception) -> None:
        rejected = self.directory / REJECTED_DIR
        rejected.mkdir(exist_ok=True)
        path.replace(rejected / path.name)
        log.warning("unreadable spool file set aside", extra={"path": str(path), "error": str(exc)})


def _write_durably(final: Path, text: str) -> None:
    """Write under a temporary name, fsync, then rename into place."""
    partial = final.parent / f"{_TMP_PREFIX}{final.name}"
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(final)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
