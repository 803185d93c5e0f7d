"""HTTP: the public tree head, proofs, the auditor's entries and export. Nothing here writes
to the log or can change it: the log has no update or delete route at all."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from market.audit import queries, service
from market.audit.canonical import canonical_json, parse_leaf, rfc3339_utc
from market.audit.checkpoints import log_verifier, served_note
from market.audit.consistency import AuditLogInconsistent
from market.audit.models import AuditEntry
from market.audit.offline import export_line
from market.audit.schemas import (
    ConsistencyProofOut,
    EntryOut,
    EntryPage,
    InclusionProofOut,
    TreeHeadOut,
    WitnessesOut,
)
from market.auth.principal import Auditor, Authenticated
from market.common.schemas import Instant
from market.db.session import Session
from market.errors import Forbidden, NotFound, problem_responses
from market.ratelimits import limit_per_ip
from market.runtime import AppSettings, SessionMaker

router = APIRouter(prefix="/v1/audit", tags=["audit"])


async def _may_see(session: Session, principal: Authenticated, entry: AuditEntry) -> bool:
    if principal.can_see_all() or entry.actor == principal.actor:
        return True
    me = principal.participant_id
    return me is not None and await queries.is_party_to(session, me, entry)


def entry_out(e: AuditEntry) -> EntryOut:
    """The entry as its leaf says it (the columns are only indexes)."""
    signed = parse_leaf(e.leaf)
    return EntryOut(
        id=e.id,
        seq=e.seq,
        created_at=signed.created_at,
        actor=signed.actor,
        action=signed.action,
        subject_type=signed.subject_type,
        subject_id=signed.subject_id,
        payload=signed.payload,
        leaf=e.leaf,
        leaf_hash=bytes(e.leaf_hash).hex(),
    )


@router.get(
    "/tree-head",
    dependencies=[limit_per_ip("public", "rate_limit_public_ip")],
    response_model=TreeHeadOut,
    summary="Latest signed checkpoint as JSON; public",
    responses=problem_responses(AuditLogInconsistent),
)
async def tree_head(settings: AppSettings, session: Session) -> TreeHeadOut:
    # Published by the `audit.publish_checkpoint` job; a read only reads it.
    head, cosigs = await service.current_checkpoint(session, settings)
    return TreeHeadOut(
        tree_size=head.tree_size,
        root_hash=head.root_hash,
        timestamp=head.timestamp,
        signature=head.signature,
        key_id=head.key_id,
        public_key=settings.exchange_public_key_b64(),
        checkpoint=served_note(head, cosigs) if head.note is not None else None,
        log_vkey=log_verifier(settings).vkey(),
        witnesses=WitnessesOut(
            quorum=head.witness_quorum,
            cosigned_by=[c.witness for c in cosigs],
            quorum_met=len(cosigs) >= head.witness_quorum,
        ),
    )


@router.get(
    "/proofs/inclusion",
    response_model=InclusionProofOut,
    summary="Inclusion proof of an entry in a tree size (auditors, or a party to the entry)",
    responses=problem_responses(NotFound, Forbidden, AuditLogInconsistent),
)
async def inclusion(
    session: Session,
    principal: Authenticated,
    seq: Annotated[int, Query(ge=0)],
    tree_size: Annotated[int, Query(ge=1)],
) -> InclusionProofOut:
    entry, proof = await service.prove_inclusion(session, seq, tree_size)
    if not await _may_see(session, principal, entry):
        raise NotFound("entry not found")
    return InclusionProofOut(
        leaf_index=seq,
        tree_size=tree_size,
        leaf_hash=bytes(entry.leaf_hash).hex(),
        audit_path=[p.hex() for p in proof],
        entry=entry_out(entry),
    )


@router.get(
    "/proofs/consistency",
    response_model=ConsistencyProofOut,
    summary="Consistency proof between two tree sizes; public",
    responses=problem_responses(AuditLogInconsistent),
)
async def consistency(
    session: Session, first: Annotated[int, Query(ge=1)], second: Annotated[int, Query(ge=1)]
) -> ConsistencyProofOut:
    proof = await service.prove_consistency(session, first, second)
    return ConsistencyProofOut(first=first, second=second, consistency_path=[p.hex() for p in proof])


@router.get(
    "/entries",
    response_model=EntryPage,
    summary="Filter the log (operators, auditors); oldest first",
)
async def entries(
    session: Session,
    principal: Auditor,
    subject_type: Annotated[str | None, Query(max_length=40)] = None,
    subject_id: Annotated[str | None, Query(max_length=80)] = None,
    actor: Annotated[str | None, Query(max_length=80)] = None,
    action: Annotated[str | None, Query(max_length=80)] = None,
    since: Instant | None = None,
    until: Instant | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,18}$", description="id to continue after")] = None,
) -> EntryPage:
    stmt = queries.filtered(subject_type, subject_id, actor, action, since, until)
    rows = await queries.entries_page(session, stmt, int(cursor) if cursor else None, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return EntryPage(
        items=[entry_out(e) for e in rows], next_cursor=str(rows[-1].id) if more and rows else None
    )


CSV_FIELDS = [
    "seq",
    "id",
    "created_at",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "payload",
    "leaf_hash",
    "leaf",
]


def _csv_row(e: AuditEntry) -> list[object]:
    """For people and spreadsheets: the leaf's fields in columns, and the leaf itself."""
    signed = parse_leaf(e.leaf)
    return [
        e.seq,
        e.id,
        rfc3339_utc(signed.created_at),
        signed.actor,
        signed.action,
        signed.subject_type,
        signed.subject_id,
        canonical_json(signed.payload).decode("utf-8"),
        bytes(e.leaf_hash).hex(),
        e.leaf,
    ]


@router.get(
    "/export",
    summary="Stream the sequenced log as JSON lines or CSV (operators, auditors)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "application/x-ndjson": {"schema": {"type": "string", "description": "one entry per line"}},
                "text/csv": {"schema": {"type": "string"}},
            }
        },
        **problem_responses(AuditLogInconsistent),
    },
)
async def export(
    settings: AppSettings,
    sessionmaker: SessionMaker,
    session: Session,
    principal: Auditor,
    format: Annotated[str, Query(pattern="^(jsonl|csv)$")] = "jsonl",
) -> StreamingResponse:
    await service.ensure_consistent(session)
    # What the publisher has sequenced so far; entries appended since follow in the next export.
    await session.commit()

    async def rows() -> AsyncIterator[str]:
        # The request's session has ended by the time the body streams: use our own.
        async with sessionmaker() as session:
            if format == "csv":
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                writer.writerow(CSV_FIELDS)
                yield buffer.getvalue()
            last = -1
            while True:
                batch = await queries.sequenced_batch(session, last, 2000)
                if not batch:
                    return
                if format == "jsonl":
                    lines = (
                        export_line(e.seq, e.id, e.leaf, bytes(e.leaf_hash), e.mac, e.mac_key_id)
                        for e in batch
                    )
                    yield "".join(line + "\n" for line in lines)
                else:
                    buffer = io.StringIO()
                    csv.writer(buffer).writerows(_csv_row(e) for e in batch)
                    yield buffer.getvalue()
                last = batch[-1].seq or last

    media = "application/x-ndjson" if format == "jsonl" else "text/csv"
    return StreamingResponse(
        rows(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit.{format}"'},
    )
