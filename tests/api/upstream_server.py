"""A seller's API on loopback, served by a real uvicorn in the test's event loop: what the
gateway forwards to when no transport is faked."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

import uvicorn

CHUNK = b"x" * 65_536


async def seller_api(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """/api/rates: JSON with the header names it got; /api/echo: the body back; /api/big?chunks=N:
    N × 64 KiB streamed; /api/slow: answers after 2 s."""
    assert scope["type"] == "http"
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    if path == "/api/slow":
        await asyncio.sleep(2)
    if path == "/api/big":
        chunks = int(parse_qs(scope["query_string"].decode()).get("chunks", ["1"])[0])
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/octet-stream")],
            }
        )
        for _ in range(chunks):
            await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/api/echo":
        payload = body
    else:
        payload = json.dumps({"rate": "3.45", "headers": headers}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


@asynccontextmanager
async def served_upstream() -> AsyncIterator[str]:
    """The base URL of `seller_api` on a free loopback port, for the duration."""
    server = uvicorn.Server(
        uvicorn.Config(seller_api, host="127.0.0.1", port=0, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/api"
    finally:
        server.should_exit = True
        await task
