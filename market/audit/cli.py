"""`market audit verify`: recompute the log from the database or an export and check every head."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import func, select

from market.audit.models import AuditEntry
from market.audit.tree_head import SignedTreeHead
from market.audit.tree_models import TreeHead, TreeNode
from market.audit.verify import EntryRecord, LogVerifier, VerificationReport, index_disagreement
from market.common.ed25519 import public_key_from_b64

audit_app = typer.Typer(help="Tamper-evident audit log.", no_args_is_help=True)
BATCH = 5000


def _record(row: AuditEntry) -> EntryRecord:
    return EntryRecord(int(row.seq or 0), row.leaf.encode("utf-8"), bytes(row.leaf_hash))


def _indexed_columns(row: AuditEntry) -> dict[str, object]:
    return {
        "created_at": row.created_at,
        "actor": row.actor,
        "action": row.action,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
    }


async def verify_database(database_url: str, public_key_b64: str, progress: Any = None) -> VerificationReport:
    from market.db.session import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            heads = [
                SignedTreeHead(
                    tree_size=h.tree_size,
                    root_hash=h.root_hash,
                    timestamp=h.timestamp,
                    signature=h.signature,
                    key_id=h.key_id,
                )
                for h in (await session.execute(select(TreeHead))).scalars()
            ]
            verifier = LogVerifier(heads, public_key_from_b64(public_key_b64))
            last = -1
            while not verifier.saturated:
                rows = list(
                    (
                        await session.execute(
                            select(AuditEntry)
                            .where(AuditEntry.seq.is_not(None), AuditEntry.seq > last)
                            .order_by(AuditEntry.seq)
                            .limit(BATCH)
                        )
                    ).scalars()
                )
                if not rows:
                    break
                low, high = int(rows[0].seq or 0), int(rows[-1].seq or 0)
                leaves = dict(
                    (
                        await session.execute(
                            select(TreeNode.idx, TreeNode.hash).where(
                                TreeNode.level == 0, TreeNode.idx >= low, TreeNode.idx <= high
                            )
                        )
                    ).all()
                )
                # A whole batch at once, so a leaf found at another position reads as "reordered".
                verifier.feed_many([_record(r) for r in rows], {int(k): bytes(v) for k, v in leaves.items()})
                for row in rows:
                    if row.seq is not None and row.seq not in leaves:
                        verifier.report.fail(row.seq, "inserted", "no tree leaf was ever recorded here")
                    disagreement = index_disagreement(row.leaf, _indexed_columns(row))
                    if disagreement is not None:
                        verifier.report.fail(row.seq, "edited", disagreement)
                last = high
                if progress is not None:
                    progress.update(len(rows))
            leaves_total = await session.scalar(
                select(func.count()).select_from(TreeNode).where(TreeNode.level == 0)
            )
            if (leaves_total or 0) > verifier.report.entries and verifier.report.ok:
                verifier.report.fail(verifier.report.entries, "deleted", "the tree has leaves with no entry")
            return verifier.finish()
    finally:
        await engine.dispose()


def verify_export(export: Path, heads_file: Path | None, public_key_b64: str) -> VerificationReport:
    heads = []
    if heads_file is not None:
        data = json.loads(heads_file.read_text(encoding="utf-8"))
        heads = [SignedTreeHead.model_validate(h) for h in (data if isinstance(data, list) else [data])]
    verifier = LogVerifier(heads, public_key_from_b64(public_key_b64))
    with export.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = EntryRecord.from_json(line)
            except (ValueError, KeyError, TypeError) as exc:
                verifier.report.fail(
                    verifier.expected_seq, "malformed", f"line {number} of the export: {exc}"
                )
                break
            verifier.feed(record)
            if verifier.saturated:
                break
    return verifier.finish()


@audit_app.command("verify")
def verify(
    export: Annotated[
        Path | None, typer.Option(exists=True, help="JSON lines from GET /v1/audit/export")
    ] = None,
    heads: Annotated[
        Path | None, typer.Option(exists=True, help="Signed tree head(s) JSON (with --export)")
    ] = None,
    public_key: Annotated[str | None, typer.Option(help="Exchange public key, base64")] = None,
    database_url: Annotated[str | None, typer.Option(help="Default: MARKET_DATABASE_URL")] = None,
) -> None:
    """Exit 0 if the log is intact; otherwise name the first bad sequence number and exit 1."""
    from market.cli_support import load_settings, require_database, require_public_key

    settings = load_settings()
    key = public_key or require_public_key(settings)
    if export is not None:
        report = verify_export(export, heads, key)
    else:
        url = require_database(settings, database_url)
        with typer.progressbar(length=0, label="verifying") as bar:
            report = asyncio.run(verify_database(url, key, bar))
    typer.echo(f"entries checked: {report.entries}; signed heads checked: {report.heads_checked}")
    if report.ok:
        typer.echo("log intact")
        return
    typer.echo(
        f"TAMPERED: first bad sequence number {report.first_bad_seq} ({report.kind}): {report.detail}",
        err=True,
    )
    for problem in report.problems[1:5]:
        typer.echo(f"  also: {problem}", err=True)
    raise typer.Exit(1)
