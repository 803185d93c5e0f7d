"""HTTP: a seller's revisions of a resource, and streamed file uploads into a draft revision.

The upload route takes no request session: the caller and the revision are checked in one
short transaction, the body streams to the blob store with no transaction open, and one more
short transaction records the file. A slow client holds no database connection.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from starlette.requests import ClientDisconnect

from market.auth.principal import (
    Authenticated,
    Seller,
    api_key_scheme,
    oauth2_scheme,
    principal_before_body,
)
from market.db.session import Session
from market.errors import Conflict, InvalidInput, NotFound, problem_responses
from market.idempotency.service import IdempotencyKey, idempotent
from market.revisions import service, uploads
from market.revisions.schemas import RevisionFileOut, RevisionList, RevisionOut, file_out, revision_out
from market.runtime import AppSettings, SessionMaker, port
from market.storage import BLOB_STORE, BlobStore

router = APIRouter(prefix="/v1", tags=["revisions"])

Store = Annotated[BlobStore, port(BLOB_STORE)]


@router.post(
    "/resources/{resource_id}/revisions",
    status_code=status.HTTP_201_CREATED,
    response_model=RevisionOut,
    summary="Open a new draft revision of a resource (files are then uploaded into it)",
    responses=problem_responses(NotFound),
)
async def create_revision(
    resource_id: uuid.UUID, session: Session, principal: Seller, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(
        session, principal.actor, idempotency_key, "revisions.create", {}, resource_id=resource_id
    )
    if replayed := await call.replay():
        return replayed
    return await call.remember(revision_out(await service.create_revision(session, principal, resource_id)))


@router.get(
    "/resources/{resource_id}/revisions",
    response_model=RevisionList,
    summary="The resource's revisions, oldest first, with their files",
    responses=problem_responses(NotFound),
)
async def list_revisions(resource_id: uuid.UUID, session: Session, principal: Authenticated) -> RevisionList:
    views = await service.list_revisions(session, principal, resource_id)
    return RevisionList(items=[revision_out(v) for v in views])


@router.get(
    "/resources/{resource_id}/revisions/{revision_id}",
    response_model=RevisionOut,
    summary="One revision, with its files and whether it is the registered one",
    responses=problem_responses(NotFound),
)
async def read_revision(
    resource_id: uuid.UUID, revision_id: uuid.UUID, session: Session, principal: Authenticated
) -> RevisionOut:
    return revision_out(await service.get_revision(session, principal, resource_id, revision_id))


MANIFEST_SCHEMA = {
    "type": "object",
    "required": ["files"],
    "properties": {
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["media_type", "name", "sha256", "size"],
                "properties": {
                    "media_type": {"type": "string"},
                    "name": {"type": "string"},
                    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "size": {"type": "integer", "minimum": 0},
                },
            },
        }
    },
}


@router.get(
    "/resources/{resource_id}/revisions/{revision_id}/manifest",
    response_class=Response,
    summary="The finalised revision's canonical manifest; its SHA-256 is the fingerprint",
    responses={
        200: {
            "description": "the manifest's exact bytes (hash them as they are: docs/delivery.md)",
            "content": {"application/json": {"schema": MANIFEST_SCHEMA}},
        },
        **problem_responses(NotFound, Conflict),
    },
)
async def read_manifest(
    resource_id: uuid.UUID, revision_id: uuid.UUID, session: Session, principal: Authenticated
) -> Response:
    body = await service.manifest_of(session, principal, resource_id, revision_id)
    return Response(body, media_type="application/json")


@router.put(
    "/resources/{resource_id}/revisions/{revision_id}/files",
    response_model=RevisionFileOut,
    summary="Stream a file into a draft revision (its size and SHA-256 computed as it arrives)",
    responses=problem_responses(NotFound, service.TooLarge, service.RevisionFinalised, InvalidInput),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"},
                    "example": "month,district,active_smes\n2026-10,Nanguan,1204\n",
                }
            },
        }
    },
)
async def upload_file(
    resource_id: uuid.UUID,
    revision_id: uuid.UUID,
    request: Request,
    sessionmaker: SessionMaker,
    settings: AppSettings,
    store: Store,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
    name: Annotated[str | None, Query(max_length=255, description="the file's name in the revision")] = None,
    media_type: Annotated[
        str | None,
        Query(max_length=255, description="its media type (default: the Content-Type header)"),
    ] = None,
) -> RevisionFileOut:
    principal = await principal_before_body(request, sessionmaker, token, api_key, "seller")
    declared = request.headers.get("content-length")
    async with sessionmaker() as session, session.begin():
        room = await service.upload_room(
            session,
            principal,
            resource_id,
            revision_id,
            (name or "").strip(),
            file_limit=settings.max_revision_file_bytes,
            revision_limit=settings.max_revision_bytes,
            declared=int(declared) if declared and declared.isdigit() else None,
        )
    name = service.check_name(name or "")
    kind = service.check_media_type(media_type or request.headers.get("content-type"))
    # No transaction is open from here until the bytes are in the store.
    try:
        stored = await uploads.store_stream(store, request.stream(), room.limit)
    except uploads.LimitExceeded:
        raise service.too_large(room.limit, settings.max_revision_file_bytes) from None
    except ClientDisconnect:
        raise InvalidInput(
            "the upload was interrupted; nothing was stored", fields=[("body", "incomplete")]
        ) from None
    async with sessionmaker() as session, session.begin():
        row = await service.record_file(
            session,
            principal,
            resource_id,
            revision_id,
            name=name,
            media_type=kind,
            size=stored.size,
            sha256=stored.sha256,
            revision_limit=settings.max_revision_bytes,
        )
    return file_out(row)


@router.post(
    "/resources/{resource_id}/revisions/{revision_id}/finalise",
    response_model=RevisionOut,
    summary="Finalise a revision: immutable from now on; its manifest hash becomes the fingerprint",
    responses=problem_responses(NotFound, Conflict, InvalidInput),
)
async def finalise_revision(
    resource_id: uuid.UUID, revision_id: uuid.UUID, session: Session, principal: Seller, settings: AppSettings
) -> RevisionOut:
    view = await service.finalise(
        session, principal, resource_id, revision_id, limit=settings.max_upload_bytes
    )
    return revision_out(view)
