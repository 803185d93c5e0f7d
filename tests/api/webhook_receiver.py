"""A webhook receiver on loopback, as a participant would run one: it answers each request with
the next status of its script (then 200), can hang instead of answering, and keeps what it got."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from market.notifications import signing


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int | None


@dataclass
class Receiver:
    url: str = ""
    script: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    hang_next: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    hung: threading.Event = field(default_factory=threading.Event)

    def verified(self, secret: str) -> list[Received]:
        """The requests whose Standard Webhooks signature checks with `secret`."""
        at = int(time.time())
        return [r for r in self.requests if signing.verify(secret, r.headers, r.body, at)]


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if receiver.hang_next.is_set():
                receiver.hang_next.clear()
                receiver.requests.append(Received(headers, body, None))
                receiver.hung.set()
                receiver.released.wait(30)  # the sender dies meanwhile; nobody reads the answer
                return
            with lock:
                status = receiver.script.pop(0) if receiver.script else 200
                receiver.requests.append(Received(headers, body, status))
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/exchange"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.shutdown()
        server.server_close()
