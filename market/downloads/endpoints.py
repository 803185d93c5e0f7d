"""HTTP: the buyer's files under a licence, streamed with ranges, and signed download URLs.

The checks run in the request's transaction, which is committed before the body is streamed;
a completed download is then recorded in a short transaction of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse

from market.auth.principal import Authenticated, MaybeAuthenticated
from market.db.session import Session
from market.delivery.service import DeliveryRevoked, check_download_token
from market.downloads import ranges, service
from market.downloads.schemas import DeliveredFile, DeliveredFiles, DeliveredRevision, SignedUrl
from market.errors import NotFound, Unauthenticated, problem_response, problem_responses
from market.revisions.models import RevisionFile
from market.runtime import AppSettings, SessionMaker, port
from market.settings import Settings
from market.storage import BLOB_STORE, BlobNotFound, BlobStore, content_key

# Bytes read and sent at a time: large enough that per-chunk costs vanish, small enough that
# many concurrent downloads keep memory flat.
CHUNK = 4 << 20

router = APIRouter(prefix="/v1", tags=["delivery"])

Store = Annotated[BlobStore, port(BLOB_STORE)]


# The download token `GET /v1/deliveries/{licence_id}` hands the buyer (licence-wide, short-lived),
# as a header or, for tools that cannot send one, a query parameter.
DownloadToken = Annotated[
    str | None,
    Query(max_length=200, description="the licence's download token (or the X-Download-Token header)"),
]
DownloadTokenHeader = Annotated[str | None, Header(alias="X-Download-Token", max_length=200)]


def _token_for(settings: Settings, licence_id: uuid.UUID, token: str | None) -> bool:
    """Whether the request carries a valid download token for this licence (401 if it carries
    one for another licence, or an expired or forged one)."""
    if not token:
        return False
    if check_download_token(settings, token) != licence_id:
        raise Unauthenticated(
            "the download token is for another licence", fields=[("query.token", "other licence")]
        )
    return True


_path = service.download_path


@router.get(
    "/deliveries/{licence_id}/files",
    response_model=DeliveredFiles,
    summary="The files this licence delivers (the revisions its terms cover)",
    responses=problem_responses(NotFound, DeliveryRevoked),
)
async def list_files(
    licence_id: uuid.UUID,
    session: Session,
    principal: MaybeAuthenticated,
    settings: AppSettings,
    token: DownloadToken = None,
    token_header: DownloadTokenHeader = None,
) -> DeliveredFiles:
    by_token = _token_for(settings, licence_id, token or token_header)
    found = await service.delivered(session, None if by_token else principal, licence_id, signed=by_token)
    numbers = {v.revision.id: v.revision.number for v in found.revisions}
    return DeliveredFiles(
        licence_id=licence_id,
        completed_downloads=await service.completed_downloads(session, licence_id),
        revisions=[
            DeliveredRevision(
                id=v.revision.id,
                resource_id=v.revision.resource_id,
                number=v.revision.number,
                manifest_sha256=v.revision.manifest_sha256,
                finalised_at=v.revision.finalised_at,
            )
            for v in found.revisions
        ],
        files=[
            DeliveredFile(
                id=f.id,
                revision_id=f.revision_id,
                revision_number=numbers[f.revision_id],
                name=f.name,
                media_type=f.media_type,
                size=f.size,
                sha256=f.sha256,
                download_path=_path(licence_id, f.id),
            )
            for v in found.revisions
            for f in v.files
        ],
    )


@router.post(
    "/deliveries/{licence_id}/files/{file_id}/signed-url",
    response_model=SignedUrl,
    summary="A short-lived URL that downloads the file without credentials (curl, wget)",
    responses=problem_responses(NotFound, DeliveryRevoked),
)
async def signed_url(
    licence_id: uuid.UUID,
    file_id: uuid.UUID,
    request: Request,
    session: Session,
    principal: Authenticated,
    settings: AppSettings,
) -> SignedUrl:
    (await service.delivered(session, principal, licence_id)).file(file_id)
    path, expires = service.signed_path(settings, licence_id, file_id)
    base = settings.public_base_url or str(request.base_url)
    return SignedUrl(url=base.rstrip("/") + path, path=path, expires_at=expires)


def _disposition(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/deliveries/{licence_id}/files/{file_id}",
    response_class=StreamingResponse,
    summary="Download a file (Range for resuming); with the buyer's credentials or a signed URL",
    responses={
        200: {"content": {"application/octet-stream": BINARY}, "description": "the whole file"},
        206: {"content": {"application/octet-stream": BINARY}, "description": "the range asked for"},
        **problem_responses(NotFound, DeliveryRevoked, service.SignedUrlInvalid),
    },
)
async def download(
    licence_id: uuid.UUID,
    file_id: uuid.UUID,
    request: Request,
    session: Session,
    principal: MaybeAuthenticated,
    settings: AppSettings,
    sessionmaker: SessionMaker,
    store: Store,
    exp: Annotated[
        int | None, Query(ge=0, le=2**53, description="signed URL: its expiry (Unix time)")
    ] = None,
    sig: Annotated[str | None, Query(max_length=128, description="signed URL: its signature")] = None,
    token: DownloadToken = None,
    token_header: DownloadTokenHeader = None,
) -> Response:
    signed = exp is not None or sig is not None
    if signed:
        if exp is None or sig is None:
            raise Unauthenticated("a signed URL has both exp and sig", fields=[("query.sig", "incomplete")])
        service.check_signature(settings, licence_id, file_id, exp, sig)
    by_token = not signed and _token_for(settings, licence_id, token or token_header)
    found = await service.delivered(
        session, None if signed or by_token else principal, licence_id, signed=signed or by_token
    )
    file = found.file(file_id)
    buyer = found.licence.buyer_id
    actor = (
        f"signed-url:{buyer}"
        if signed
        else f"download-token:{buyer}"
        if by_token
        else principal.actor
        if principal
        else "anonymous"
    )
    headers = {
        "ETag": f'"{file.sha256}"',
        "Accept-Ranges": "bytes",
        "Content-Disposition": _disposition(file.name),
        "Cache-Control": "private, no-store",
    }
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != headers["ETag"]:
        wanted = None  # the client holds another version: send it the whole of this one
    try:
        span = ranges.parse(wanted, file.size)
    except ranges.Unsatisfiable:
        problem = problem_response(
            416,
            "range-not-satisfiable",
            "Range not satisfiable",
            f"the file has {file.size} bytes",
            fields=[("header.Range", f"outside 0-{max(file.size - 1, 0)}")],
            headers={"Content-Range": f"bytes */{file.size}", "Accept-Ranges": "bytes"},
        )
        return problem
    start, end = span or (0, file.size)
    headers["Content-Length"] = str(end - start)
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{file.size}"
    body = _body(store, sessionmaker, found.licence.id, file, actor, start, end)
    return StreamingResponse(
        body, status_code=206 if span is not None else 200, media_type=file.media_type, headers=headers
    )


async def _body(
    store: BlobStore,
    sessionmaker: SessionMaker,
    licence_id: uuid.UUID,
    file: RevisionFile,
    actor: str,
    start: int,
    end: int,
) -> AsyncIterator[bytes]:
    """The bytes, then (only when the file's last byte was sent, so a download resumed in
    ranges counts once) the record of a completed download, in its own transaction."""
    sent = 0
    if end > start:
        async for chunk in _chunks(store, content_key(file.sha256), start, end):
            sent += len(chunk)
            yield chunk
    if start + sent == file.size:
        async with sessionmaker() as session, session.begin():
            await service.record_download(session, licence_id, file, actor=actor, bytes_sent=sent)


async def _chunks(store: BlobStore, key: str, start: int, end: int) -> AsyncIterator[bytes]:
    """The blob's bytes [start, end) in chunks of at most CHUNK (memory stays flat): read from
    the file itself when the store is a local directory, else streamed from the object store."""
    path = store.local_path(key)
    if path is None:
        async for chunk in store.stream(key, start=start, end=end):
            yield chunk
        return
    async with await anyio.open_file(path, "rb") as handle:
        await handle.seek(start)
        left = end - start
        while left > 0:
            chunk = await handle.read(min(CHUNK, left))
            if not chunk:
                raise BlobNotFound(f"{key} ended {left} bytes early")
            left -= len(chunk)
            yield chunk
