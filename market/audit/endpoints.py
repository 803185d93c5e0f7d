"""HTTP: the public tree head, proofs, the auditor's entries and export. Nothing here writes
to the log or can change it: the log has no update or delete route at all."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Select, or_, select

from market.audit import service
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
from market.catalog.models import Product
from market.db.session import Session
from market.delivery.models import LicenceRow
from market.errors import Forbidden, NotFound, problem_responses
from market.orders.models import Order

router = APIRouter(prefix="/v1/audit", tags=["audit"])


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
    response_model=TreeHeadOut,
    summary="Latest signed checkpoint as JSON; public",
    responses=problem_responses(NotFound, AuditLogInconsistent),
)
async def tree_head(request: Request, session: Session) -> TreeHeadOut:
    settings = request.app.state.settings
    head, cosigs = await service.current_checkpoint(session)
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


async def _party_to(session: Session, principal: Authenticated, entry: AuditEntry) -> bool:
    if principal.can_see_all() or entry.actor == principal.actor:
        return True
    me = principal.participant_id
    if me is None:
        return False
    if entry.subject_id == str(me):
        return True
    try:
        subject = uuid.UUID(entry.subject_id)
    except ValueError:
        return False
    if entry.subject_type == "order":
        order = await session.get(Order, subject)
        return order is not None and me in (order.buyer_id, order.seller_id)
    if entry.subject_type == "product":
        product = await session.get(Product, subject)
        return product is not None and product.seller_id == me
    if entry.subject_type == "licence":
        licence = await session.get(LicenceRow, subject)
        return licence is not None and me in (licence.buyer_id, licence.seller_id)
    return False


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
    if not await _party_to(session, principal, entry):
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


def _filtered(
    subject_type: str | None,
    subject_id: str | None,
    actor: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[AuditEntry]:
    stmt = select(AuditEntry)
    for column, value in (
        (AuditEntry.subject_type, subject_type),
        (AuditEntry.subject_id, subject_id),
        (AuditEntry.actor, actor),
        (AuditEntry.action, action),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.created_at < until)
    return stmt


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
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(pattern=r"^\d{1,18}$", description="id to continue after")] = None,
) -> EntryPage:
    stmt = _filtered(subject_type, subject_id, actor, action, since, until)
    if cursor:
        stmt = stmt.where(AuditEntry.id > int(cursor))
    rows = list((await session.execute(stmt.order_by(AuditEntry.id).limit(limit + 1))).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return EntryPage(
        items=[entry_out(e) for e in rows], next_cursor=str(rows[-1].id) if more and rows else None
    )


@router.get(
    "/trades/{order_id}",
    response_model=list[EntryOut],
    summary="The whole history of one trade, in order (operators, auditors)",
    responses=problem_responses(NotFound),
)
async def trade_history(order_id: uuid.UUID, session: Session, principal: Auditor) -> list[EntryOut]:
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound("order not found")
    subjects = {str(order.id), str(order.quote_id)}
    if order.licence_id:
        subjects.add(str(order.licence_id))
    stmt = (
        select(AuditEntry)
        .where(or_(AuditEntry.subject_id.in_(subjects), AuditEntry.leaf.contains(str(order.id))))
        .order_by(AuditEntry.id)
    )
    return [entry_out(e) for e in (await session.execute(stmt)).scalars()]


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
    responses={
        200: {"content": {"application/x-ndjson": {}, "text/csv": {}}},
        **problem_responses(AuditLogInconsistent),
    },
)
async def export(
    request: Request,
    session: Session,
    principal: Auditor,
    format: Annotated[str, Query(pattern="^(jsonl|csv)$")] = "jsonl",
) -> StreamingResponse:
    await service.ensure_consistent(session)
    sessionmaker = request.app.state.sessionmaker

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
                stmt = (
                    select(AuditEntry)
                    .where(AuditEntry.seq.is_not(None), AuditEntry.seq > last)
                    .order_by(AuditEntry.seq)
                    .limit(2000)
                )
                batch = list((await session.execute(stmt)).scalars())
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
