"""A real HTTP receiver on loopback for notification tests: it records every request and
answers as the test scripts it (status, Retry-After, hanging), in its own thread."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Request:
    """One request as it arrived, and what it was answered."""

    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True, kw_only=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0
    """Wait this long before answering (the client may have given up by then)."""


Script = Callable[["Request"], Answer]


@dataclass
class Receiver:
    """Requests recorded in arrival order; ``script`` decides each answer."""

    port: int = 0
    script: Script = lambda request: Answer()
    requests: list[Request] = field(default_factory=list)
    arrivals: int = 0
    """Requests that have arrived, answered or not yet."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def accepted(self) -> list[Request]:
        """Requests answered 2xx (what the receiver took in)."""
        with self.lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    def wait_for(self, count: int, timeout_s: float) -> list[Request]:
        """Wait until ``count`` requests were accepted; those accepted so far."""
        deadline = time.monotonic() + timeout_s
        while len(self.accepted()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.accepted()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            arrived = Request(at=time.time(), path=self.path, headers=headers, body=body, status=0)
            with receiver.lock:
                receiver.arrivals += 1
            answer = receiver.script(arrived)
            time.sleep(answer.hang_s)
            if answer.hang_s and _hung_up(self.connection):
                answer = Answer(status=0)
            else:
                answer = self._answer(answer)
            with receiver.lock:
                receiver.requests.append(
                    Request(
                        at=arrived.at,
                        path=self.path,
                        headers=headers,
                        body=body,
                        status=answer.status,
                    )
                )

        def _answer(self, answer: Answer) -> Answer:
            """Write ``answer``; status 0 when the client gave up waiting (nothing taken in)."""
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                self.wfile.flush()
            except OSError:
                return Answer(status=0)
            return answer

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    return Handler


def _hung_up(connection: socket.socket) -> bool:
    """Whether the client closed the connection while we hung: an answer written now
    could still land in the socket buffer, but nobody would read it."""
    readable, _, _ = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    """A burst of connections must not overflow the listen backlog (default 5): each
    dropped SYN costs its sender a 1 s retransmission."""


@contextmanager
def serving(receiver: Receiver | None = None) -> Iterator[Receiver]:
    """Serve ``receiver`` on a free loopback port until the block ends."""
    receiver = receiver or Receiver()
    server = _Server(("127.0.0.1", receiver.port), _handler(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
