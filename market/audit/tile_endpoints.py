"""HTTP: the log per c2sp.org/tlog-tiles: `GET /checkpoint`, `/tile/<L>/<N>[.p/<W>]` and
`/tile/entries/<N>[.p/<W>]`.

The checkpoint and the hash tiles are public (hashes reveal nothing of the entries: every leaf
carries a random nonce); entry bundles hold the entries themselves and are for operators and
auditors, as the export is. Tiles come from the blob store, where the publisher wrote them, and
from the database when the store does not hold that width (yet). A tile's bytes never change:
they are served with long-lived, immutable caching. Reads only; 503 while the log is stopped.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from market.audit import service
from market.audit.checkpoints import served_note
from market.audit.consistency import AuditLogInconsistent
from market.audit.merkle import HASH_SIZE
from market.audit.tiles import bundle, parse_tile_path, tile_path
from market.audit.tree_store import bundle_leaves, load_tiles
from market.auth.principal import Auditor
from market.db.session import Session
from market.errors import Forbidden, NotFound, Unauthenticated, problem_responses
from market.runtime import AppSettings, port
from market.storage import BLOB_STORE, BlobNotFound, BlobStore

router = APIRouter(tags=["audit"])
IMMUTABLE = "public, max-age=31536000, immutable"
OCTETS = "application/octet-stream"


@router.get(
    "/checkpoint",
    summary="The latest checkpoint: a signed note with witness cosignatures (tlog-checkpoint); public",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **problem_responses(NotFound, AuditLogInconsistent),
    },
)
async def checkpoint(settings: AppSettings, session: Session) -> Response:
    head, cosigs = await service.current_checkpoint(session, settings)
    if head.note is None:
        raise NotFound("no checkpoint has been published since checkpoints were introduced")
    return Response(
        served_note(head, cosigs),
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


async def _hash_tile(session: Session, level: int, index: int, width: int) -> bytes:
    data = (await load_tiles(session, [(level, index)])).get((level, index), b"")
    if len(data) < width * HASH_SIZE:
        raise NotFound("no such tile in the tree (yet)")
    return data[: width * HASH_SIZE]


async def _entry_bundle(session: Session, index: int, width: int) -> bytes:
    if await service.integrated_size(session) < index * 256 + width:
        raise NotFound("no such entry bundle in the tree (yet)")
    return bundle(await bundle_leaves(session, index, width))


def _parse(path: str, entries: bool) -> tuple[int | None, int, int]:
    try:
        level, index, width = parse_tile_path(("tile/entries/" if entries else "tile/") + path)
    except ValueError as exc:
        raise NotFound(f"not a tile: {exc}", fields=[("path.path", str(exc))]) from exc
    if (level is None) != entries:
        raise NotFound("entry bundles are at /tile/entries/<N>")
    return level, index, width


Store = Annotated[BlobStore, port(BLOB_STORE)]


async def _serve(store: BlobStore, session: Session, level: int | None, index: int, width: int) -> Response:
    await service.ensure_consistent(session)
    try:
        data = await store.get(tile_path(level, index, width))
    except BlobNotFound:
        if level is None:
            data = await _entry_bundle(session, index, width)
        else:
            data = await _hash_tile(session, level, index, width)
    return Response(data, media_type=OCTETS, headers={"Cache-Control": IMMUTABLE})


TilePath = Annotated[str, Path(max_length=120, description="<N>[.p/<W>], N as x001/x234/067")]


@router.get(
    "/tile/entries/{path:path}",
    summary="An entry bundle: the entries themselves (c2sp.org/tlog-tiles); operators, auditors",
    response_class=Response,
    responses={
        200: {"content": {OCTETS: {"schema": {"type": "string", "format": "binary"}}}},
        **problem_responses(NotFound, Unauthenticated, Forbidden, AuditLogInconsistent),
    },
)
async def entry_bundle(store: Store, session: Session, principal: Auditor, path: TilePath) -> Response:
    level, index, width = _parse(path, entries=True)
    return await _serve(store, session, level, index, width)


@router.get(
    "/tile/{path:path}",
    summary="A tile of the Merkle tree's hashes (c2sp.org/tlog-tiles); public",
    response_class=Response,
    responses={
        200: {"content": {OCTETS: {"schema": {"type": "string", "format": "binary"}}}},
        **problem_responses(NotFound, AuditLogInconsistent),
    },
)
async def hash_tile(store: Store, session: Session, path: TilePath) -> Response:
    level, index, width = _parse(path, entries=False)
    return await _serve(store, session, level, index, width)
