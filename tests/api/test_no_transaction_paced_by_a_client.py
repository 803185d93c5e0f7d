"""Issue 18, finding 2: no database connection is held while a client sends its body. Every
route that takes a body is driven with a body that never arrives; while the server waits for
it, the connection pool must have nothing checked out (a slow client cannot block SQLite's
writer nor exhaust PostgreSQL's pool). Path ids are fresh, so a route that looks its object up
before it reads the body answers 404 instead and is not counted among those waiting."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

from tests.api.factories import Api
from tests.api.test_authz_matrix import served_routes


def body_routes(app: Any) -> list[tuple[str, str]]:
    return sorted({(m, p) for m, p in served_routes() if m in ("POST", "PUT", "PATCH")})


async def test_a_stalled_body_holds_no_database_connection(api: Api, app: Any) -> None:
    party = await api.org()
    pool = app.state.engine.pool
    held = []
    reading = 0
    routes = body_routes(app)
    assert len(routes) > 40
    for method, path in routes:
        url = re.sub(r"\{[a-z_]+\}", lambda _m: str(uuid.uuid4()), path)
        arrived = asyncio.Event()  # never set: the body never comes
        waiting = asyncio.Event()

        async def receive(
            waiting: asyncio.Event = waiting, arrived: asyncio.Event = arrived
        ) -> dict[str, Any]:
            waiting.set()
            await arrived.wait()
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(_message: dict[str, Any]) -> None:
            return None

        headers = [
            (b"host", b"test"),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
            *[(k.lower().encode(), v.encode()) for k, v in party.headers.items()],
        ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": url,
            "raw_path": url.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
            "state": {},
        }
        task = asyncio.create_task(app(scope, receive, send))
        wait = asyncio.create_task(waiting.wait())
        await asyncio.wait({task, wait}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        wait.cancel()
        if waiting.is_set():  # the server waits for the body (routes without one never do)
            reading += 1
            await asyncio.sleep(0.05)
            if pool.checkedout():
                held.append(f"{method} {path}: {pool.checkedout()} connection(s) held")
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):  # noqa: S110 (the request was abandoned)
            pass
    assert reading > 40, reading
    assert not held, "\n".join(held)
