"""Loud failure: what the publisher cannot reconcile stops the log until the database is right.

When the sequencer or publisher finds what it cannot reconcile (a gap at the tail, an entry
beyond the tree, a changed leaf, a missing or changed tile, a tree that no longer matches its
last signed checkpoint, witnesses refusing a checkpoint), it raises `LogInconsistent`. The
publisher then stops sequencing and signing, records the finding in the log state row, raises
a critical alert (once) and reports it so the gauge drops; the audit endpoints answer 503
`audit-log-inconsistent` saying what was found. Every later round checks again, and once the
database is restored the finding is cleared and the log carries on by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.alerting import raise_critical
from market.audit.log import record
from market.audit.merkle import EMPTY_ROOT
from market.audit.tree_models import LogState
from market.common.clock import now
from market.errors import MarketError

STATE_ID = 1
ALERT_KIND = "audit_log_inconsistent"


class AuditLogInconsistent(MarketError):
    code, title, status = "audit-log-inconsistent", "Audit log inconsistent", 503
    headers = {"Retry-After": "60"}  # noqa: RUF012 (a constant of the class)


class LogInconsistent(AuditLogInconsistent):
    """The log cannot be reconciled: `kind` (deleted, inserted, changed_leaf, missing_tile,
    changed_tile, rolled_back, witness_refused, ...) and what exactly was found. Raised in a
    request (a read finding a tile or an entry gone), it answers 503 like a stopped log."""

    def __init__(self, kind: str, detail: str, seq: int | None = None) -> None:
        super().__init__(
            f"The audit log cannot be reconciled: {kind}: {detail}",
            extra={"finding": {"kind": kind, "detail": detail, "seq": seq}},
        )
        self.kind, self.detail, self.seq = kind, detail, seq


@dataclass(frozen=True)
class LogStatus:
    halted: bool
    kind: str | None = None
    detail: str | None = None
    since: datetime | None = None

    def raise_if_halted(self) -> None:
        if self.halted:
            raise AuditLogInconsistent(
                f"The audit log cannot be reconciled, so it is neither extended nor signed and "
                f"serves no proofs until the database is restored. Found: {self.kind}: {self.detail}",
                extra={
                    "finding": {
                        "kind": self.kind,
                        "detail": self.detail,
                        "since": None if self.since is None else self.since.isoformat(),
                    }
                },
            )


async def read_status(session: AsyncSession) -> LogStatus:
    """The log's status as the publisher last recorded it (a read; never writes)."""
    row = (
        await session.execute(
            select(LogState.halted_kind, LogState.halted_detail, LogState.halted_at).where(
                LogState.id == STATE_ID
            )
        )
    ).one_or_none()
    if row is None or row.halted_kind is None:
        return LogStatus(False)
    return LogStatus(True, row.halted_kind, row.halted_detail, row.halted_at)


async def locked_state(session: AsyncSession) -> LogState:
    """The state row, locked for this transaction (one publisher at a time; SQLite's writer
    lock, taken when the transaction began, does the same). Created for a new, empty log."""
    locked = select(LogState).where(LogState.id == STATE_ID).with_for_update()
    state = (await session.execute(locked)).scalar_one_or_none()
    if state is None:
        # A missing row in a log that holds entries is caught by the reconciliation that
        # follows: a tree of size 0 cannot have entries. Concurrent publishers may both get
        # here: the row is created once, and each then waits for its lock.
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        new = {
            "id": STATE_ID,
            "tree_size": 0,
            "root": EMPTY_ROOT,
            "published_size": 0,
            "mac_required_from": 0,
        }
        await session.execute(insert(LogState).values(new).on_conflict_do_nothing(index_elements=["id"]))
        state = (await session.execute(locked)).scalar_one()
    return state


async def record_halt(session: AsyncSession, state: LogState, finding: LogInconsistent) -> bool:
    """Record the finding on the state row and raise a critical alert; True if it is new."""
    new = (state.halted_kind, state.halted_detail) != (finding.kind, finding.detail)
    if new:
        state.halted_kind, state.halted_detail, state.halted_at = finding.kind, finding.detail, now()
    await raise_critical(
        session,
        ALERT_KIND,
        f"The audit log stopped: {finding.kind}: {finding.detail}",
        {"kind": finding.kind, "detail": finding.detail, "seq": finding.seq},
        ("audit_log", "exchange"),
    )
    return new


async def clear_halt(session: AsyncSession, state: LogState) -> None:
    """The checks pass again (the database was restored): resume, and say so in the log."""
    await record(
        session,
        actor="system",
        action="audit.log_resumed",
        subject_type="audit_log",
        subject_id="exchange",
        payload={"was": state.halted_kind, "detail": state.halted_detail, "since": state.halted_at},
    )
    state.halted_kind = state.halted_detail = None
    state.halted_at = None
