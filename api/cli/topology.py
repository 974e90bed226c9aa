"""Supervision of the local multi-process topology: detached processes by name, and the
state file that remembers them between commands.

Each member (``api-1``, ``proxy``, ``agent-ams-0``, ...) is a command line, the
environment it adds to ours, its port and its log file; once started, its pid. The
state lives in ``<root>/state.json`` (mode 0600: it holds the project's key and the
agents' tokens). Members run in sessions of their own, so they outlive the command
that started them; ``stop`` sends SIGTERM to the member alone (an agent stops its own
engine processes, which must not see the signal first), then SIGKILL to its whole
group after a bound. Fault tests and benches drive the same :class:`Topology`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import httpx

Role = Literal["api", "proxy", "agent"]
STOP_ORDER: tuple[Role, ...] = ("agent", "proxy", "api")
"""Agents first (they hand back runs and flush through the proxy), the APIs last."""


class MemberFailed(RuntimeError):
    """A member exited or did not become ready; the message ends with its log's tail."""


@dataclass(kw_only=True, slots=True)
class Member:
    """One process of the topology."""

    name: str
    role: Role
    argv: list[str]
    env: dict[str, str]
    log: str
    port: int | None = None
    ready_url: str | None = None
    pid: int | None = None


@dataclass(kw_only=True, slots=True)
class State:
    """What ``state.json`` holds."""

    members: dict[str, Member] = field(default_factory=dict)
    project: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def alive(pid: int | None) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    if pid is None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def running(member: Member) -> bool:
    """Whether the member's pid runs the member's command (not a process that got the pid
    of one that died meanwhile)."""
    if not alive(member.pid):
        return False
    try:
        cmdline = Path(f"/proc/{member.pid}/cmdline").read_bytes().split(b"\0")[:-1]
    except OSError:
        return False
    return [arg.decode(errors="replace") for arg in cmdline[1:]] == member.argv[1:]


def ready(url: str | None, timeout: float = 2.0) -> int | None:
    """The HTTP status ``url`` answers with, None when nothing answers."""
    if url is None:
        return None
    try:
        return httpx.get(url, timeout=timeout).status_code
    except httpx.HTTPError:
        return None


class Topology:
    """The members under ``root`` and operations on them by name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state_file = root / "state.json"
        self.state = self._load()

    def _load(self) -> State:
        if not self.state_file.exists():
            return State()
        data = json.loads(self.state_file.read_text())
        members = {name: Member(**m) for name, m in data.pop("members").items()}
        return State(members=members, **data)

    def save(self) -> None:
        """Write the state file, readable by its owner only."""
        self.root.mkdir(parents=True, exist_ok=True)
        data = asdict(self.state)
        fd = os.open(self.state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
        self.state_file.chmod(0o600)

    def member(self, name: str) -> Member:
        """The member called ``name`` (KeyError naming the known ones otherwise)."""
        try:
            return self.state.members[name]
        except KeyError:
            raise KeyError(f"no member {name!r}; known: {sorted(self.state.members)}") from None

    def by_role(self, role: Role) -> Iterator[Member]:
        """The members of ``role``, in the order they were added."""
        return (m for m in self.state.members.values() if m.role == role)

    def alive(self, name: str) -> bool:
        """Whether the member runs."""
        return running(self.member(name))

    def start(self, name: str, *, wait_s: float = 60.0) -> bool:
        """Start the member unless it runs, then wait until it is ready; False when it
        already ran."""
        member = self.member(name)
        if running(member):
            return False
        Path(member.log).parent.mkdir(parents=True, exist_ok=True)
        with open(member.log, "ab") as log:
            proc = subprocess.Popen(
                member.argv,
                env={**os.environ, **member.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        member.pid = proc.pid
        self.save()
        self._wait_ready(member, proc, wait_s)
        return True

    def _wait_ready(self, member: Member, proc: subprocess.Popen[bytes], wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        while proc.poll() is None:
            if member.ready_url is None or ready(member.ready_url, timeout=1) == 200:
                return
            if time.monotonic() > deadline:
                raise MemberFailed(f"{member.name} not ready in {wait_s:g} s{_tail(member)}")
            time.sleep(0.2)
        raise MemberFailed(f"{member.name} exited with {proc.returncode}{_tail(member)}")

    def stop(self, *names: str, bound_s: float = 45.0) -> list[str]:
        """SIGTERM to each member at once, then SIGKILL to the group of any still there
        after ``bound_s``; the members that ran."""
        pids = {m.name: m.pid for m in map(self.member, names) if m.pid and running(m)}
        for pid in pids.values():
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + bound_s
        for name, pid in pids.items():
            if not _wait_gone(pid, max(0.0, deadline - time.monotonic())):
                self.kill(name)
        return list(pids)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the member's process group (kill -9 by default) and, for a
        fatal signal, wait until it is gone."""
        member = self.member(name)
        if member.pid is None or not running(member):
            return
        os.killpg(member.pid, sig)
        if sig == signal.SIGKILL:
            _wait_gone(member.pid, 10)

    def stop_all(self) -> list[str]:
        """Stop every member, agents first, then the proxy, then the APIs; the stopped."""
        return [
            name for role in STOP_ORDER for name in self.stop(*(m.name for m in self.by_role(role)))
        ]


def _wait_gone(pid: int, bound_s: float) -> bool:
    deadline = time.monotonic() + bound_s
    while alive(pid):
        _reap(pid)
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    _reap(pid)
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when ``pid`` is our child (a test's, not the CLI's)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _tail(member: Member, lines: int = 15) -> str:
    try:
        text = Path(member.log).read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "; log " + member.log + ":\n" + "\n".join(text)
