"""RetryDroppedConnection replays a small request once after a dead pooled connection, and does
not hold a large body in memory for it: an upload streams through with its memory flat, and on
the rare dead connection it is answered 503 instead of replayed."""

from __future__ import annotations

import tracemalloc
from typing import Any

from market.db.session import RetryDroppedConnection
from market.errors import RETRY_SAFE

CHUNK = 64 * 1024


class DeadOnFirstRun:
    """An app whose first run meets a dead pooled connection after reading the whole body."""

    def __init__(self) -> None:
        self.runs = 0
        self.bodies: list[int] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.runs += 1
        size = 0
        while True:
            message = await receive()
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.bodies.append(size)
        if self.runs == 1:
            scope["state"][RETRY_SAFE] = True
            status = 503
        else:
            status = 201
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def _run(body_bytes: int) -> tuple[DeadOnFirstRun, list[int]]:
    left = body_bytes // CHUNK

    async def receive() -> Any:
        nonlocal left
        if left < 0:
            return {"type": "http.disconnect"}
        left -= 1
        if left < 0:
            return {"type": "http.request", "body": b"", "more_body": False}
        # A fresh buffer per message, as a server hands them over.
        return {"type": "http.request", "body": bytes(CHUNK), "more_body": True}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    app = DeadOnFirstRun()
    await RetryDroppedConnection(app)({"type": "http", "path": "/v1/x", "state": {}}, receive, send)
    return app, statuses


async def test_a_small_request_is_replayed_whole_and_the_client_sees_only_the_retry() -> None:
    app, statuses = await _run(256 * 1024)
    assert app.runs == 2 and app.bodies == [256 * 1024, 256 * 1024]
    assert statuses == [201]


async def test_a_large_upload_is_not_kept_for_a_replay() -> None:
    size = 16 << 20
    tracemalloc.start()
    try:
        app, statuses = await _run(size)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert app.runs == 1 and app.bodies == [size]
    assert statuses == [503]  # answered, not replayed with a body it no longer has
    assert peak < 4 << 20, peak
