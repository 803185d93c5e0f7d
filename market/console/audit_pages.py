"""Auditors: browse and filter the log; an entry with its leaf, inclusion proof and the signed
checkpoint, which the page verifies itself (WebCrypto: SHA-256 and Ed25519), trusting the server
for nothing but the bytes; a consistency check between two tree sizes, verified the same way."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from market.audit import queries, service
from market.audit.canonical import parse_leaf
from market.audit.endpoints import tree_head
from market.console import repository
from market.console.web import Console
from market.db.session import Session
from market.errors import MarketError

router = APIRouter(include_in_schema=False)


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element: a leaf's text may hold "</script>" or "<!--"."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


Text80 = Annotated[str | None, Query(max_length=80)]


@router.get("/console/audit", response_class=HTMLResponse)
async def entries(
    v: Console,
    session: Session,
    subject_type: Annotated[str | None, Query(max_length=40)] = None,
    subject_id: Text80 = None,
    actor: Text80 = None,
    action: Text80 = None,
    after: Annotated[int | None, Query(ge=0, le=10**18)] = None,
) -> HTMLResponse:
    v.require("operator", "auditor")
    # An empty field of the form means no filter on it.
    stmt = queries.filtered(
        subject_type or None, subject_id or None, actor or None, action or None, None, None
    )
    limit = 50
    rows = await queries.entries_page(session, stmt, after, limit)
    more = rows[limit].id if len(rows) > limit else None
    rows = rows[:limit]
    filters = {"subject_type": subject_type, "subject_id": subject_id, "actor": actor, "action": action}
    next_query = urlencode({k: val for k, val in filters.items() if val})
    return v.render(
        "audit.html",
        rows=[(e, parse_leaf(e.leaf)) for e in rows],
        filters=filters,
        next_after=rows[-1].id if more and rows else None,
        next_query=next_query,
    )


@router.get("/console/audit/entry", response_class=HTMLResponse)
async def entry(v: Console, session: Session, id: Annotated[int, Query(ge=1, le=10**18)]) -> HTMLResponse:
    entry_id = id
    v.require("operator", "auditor")
    row = await repository.audit_entry(session, entry_id)
    if row is None:
        return v.render("error.html", status_code=404, heading=v.t("not_found"), message=str(entry_id))
    head = None
    proof: dict[str, Any] | None = None
    try:
        head = await tree_head(v.settings, session)
        if row.seq is not None and row.seq < head.tree_size and head.checkpoint:
            _, path = await service.prove_inclusion(session, row.seq, head.tree_size)
            proof = {
                "leaf": row.leaf,
                "leaf_hash": bytes(row.leaf_hash).hex(),
                "leaf_index": row.seq,
                "tree_size": head.tree_size,
                "audit_path": [p.hex() for p in path],
                "checkpoint": head.checkpoint,
                "log_vkey": head.log_vkey,
            }
    except MarketError as exc:  # the log is stopped as inconsistent: say so, prove nothing
        return v.render("error.html", status_code=503, heading=v.t("inclusion_proof"), message=exc.message)
    return v.render(
        "audit_entry.html",
        e=row,
        leaf=parse_leaf(row.leaf),
        head=head,
        proof=proof,
        proof_json=script_json(proof) if proof else None,
    )


@router.get("/console/audit/consistency", response_class=HTMLResponse)
async def consistency(
    v: Console,
    session: Session,
    first: Annotated[int | None, Query(ge=1, le=10**18)] = None,
    second: Annotated[int | None, Query(ge=1, le=10**18)] = None,
    first_root: Annotated[str | None, Query(max_length=64, pattern="^[0-9a-fA-F]*$")] = None,
) -> HTMLResponse:
    v.require("operator", "auditor")
    data: dict[str, Any] | None = None
    error = None
    try:
        head = await tree_head(v.settings, session)
    except MarketError as exc:
        return v.render("error.html", status_code=503, heading=v.t("consistency"), message=exc.message)
    second = second or head.tree_size
    if first is not None:
        try:
            path = await service.prove_consistency(session, first, second)
        except MarketError as exc:
            error = exc.message
        else:
            earlier = await repository.signed_head_of_size(session, first)
            later = await repository.signed_head_of_size(session, second)
            data = {
                "first": first,
                "second": second,
                "first_root": first_root or (earlier.root_hash if earlier else ""),
                "second_root": later.root_hash if later else "",
                "second_note": later.note if later else None,
                "log_vkey": head.log_vkey,
                "consistency_path": [p.hex() for p in path],
            }
    return v.render(
        "audit_consistency.html",
        head=head,
        first=first,
        second=second,
        sizes=await repository.signed_sizes(session),
        data_json=script_json(data) if data else None,
        error=error,
    )
