"""The witness as a small ASGI service: `POST /add-checkpoint`, and `GET /` naming its key."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from market.witness.core import MAX_BODY, Witness


def witness_app(witness: Witness) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared and (not declared.isdigit() or int(declared) > MAX_BODY):
            return PlainTextResponse("request too large\n", status_code=400)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse("request too large\n", status_code=400)
        answer = witness.add_checkpoint(body, int(time.time()))
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type)

    async def about(_: Request) -> Response:
        logs = "".join(f"log {v.vkey()}\n" for v in witness.logs.values())
        return PlainTextResponse(f"witness {witness.signer.verifier.vkey()}\n{logs}")

    return Starlette(routes=[Route("/add-checkpoint", add_checkpoint, methods=["POST"]), Route("/", about)])
