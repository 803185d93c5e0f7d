"""Issue 18, finding 2: no database connection is held while a client sends its body. Every
route that takes a body is driven with a body whose first bytes arrive and whose rest never
does; while the server waits for it, the connection pool must have nothing checked out (a slow
client cannot block SQLite's writer nor exhaust PostgreSQL's pool).

The path ids name real objects the caller may act on (a draft resource and revision of its own,
a bought API product with its delivery credential, its order and licence), so the routes that
read their body themselves, after looking their object up (sample and file uploads, the
gateway, the Stripe webhook), reach that point: a lookup answered 404 would prove nothing."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

from tests.api.factories import Api
from tests.api.files_factories import new_resource, new_revision
from tests.api.gateway_factories import bought_api, fake_upstream
from tests.api.test_authz_matrix import served_routes

# Routes whose handler streams or reads the body itself, not FastAPI before the handler runs:
# the ones a lookup before the body could make hold a connection.
READ_BY_THE_HANDLER = {
    ("PUT", "/v1/resources/{resource_id}/sample"),
    ("PUT", "/v1/resources/{resource_id}/revisions/{revision_id}/files"),
    ("POST", "/gateway/{product_id}/{path:path}"),
    ("POST", "/v1/payments/stripe/webhook"),
}


def body_routes() -> list[tuple[str, str]]:
    """Those read by the handler first: a body-less route further on may end the caller's
    session (`POST /v1/auth/logout` runs at once), after which a lookup would answer 401."""
    routes = {(m, p) for m, p in served_routes() if m in ("POST", "PUT", "PATCH")}
    return sorted(READ_BY_THE_HANDLER) + sorted(routes - READ_BY_THE_HANDLER)


async def stalled_request(app: Any, method: str, url: str, headers: dict[str, str]) -> tuple[bool, int]:
    """Send the first bytes of a body and stall: did the server ask for more, and how many
    pooled connections were checked out while it waited."""
    first = True
    waiting, arrived = asyncio.Event(), asyncio.Event()  # `arrived` is never set

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b'{"a', "more_body": True}
        waiting.set()
        await arrived.wait()
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: dict[str, Any]) -> None:
        return None

    path, _, query = url.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [
            (b"host", b"test"),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
            *[(k.lower().encode(), v.encode()) for k, v in headers.items()],
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
        "state": {},
    }
    task = asyncio.create_task(app(scope, receive, send))
    wait = asyncio.create_task(waiting.wait())
    await asyncio.wait({task, wait}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    wait.cancel()
    held = 0
    if waiting.is_set():
        await asyncio.sleep(0.05)  # let the handler go as far as it would
        held = app.state.engine.pool.checkedout()
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):  # noqa: S110 (the request was abandoned)
        pass
    return waiting.is_set(), held


async def test_a_stalled_body_holds_no_database_connection(api: Api, app: Any) -> None:
    bought = await bought_api(api)
    seller = bought.seller
    resource_id = await new_resource(api, seller)
    ids = {
        "resource_id": resource_id,
        "revision_id": await new_revision(api, seller, resource_id),
        "product_id": bought.product_id,
        "order_id": bought.order_id,
        "licence_id": bought.licence_id,
        "participant_id": seller.participant_id,
    }
    routes = body_routes()
    assert len(routes) > 40
    held, reached = [], set()
    with fake_upstream(app):
        for method, path in routes:
            url = re.sub(r"\{([a-z_]+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())), path)
            url = url.replace("{path:path}", "echo") + "?name=stalled.csv"
            headers = bought.auth if path.startswith("/gateway/") else seller.headers
            waited, connections = await stalled_request(app, method, url, headers)
            if waited:
                reached.add((method, path))
            if connections:
                held.append(f"{method} {path}: {connections} connection(s) held")
    assert len(reached) > 40, len(reached)
    assert READ_BY_THE_HANDLER <= reached, READ_BY_THE_HANDLER - reached
    assert not held, "\n".join(held)
