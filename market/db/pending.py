"""Rows a use case records during a transaction and that are written with the session's next
flush or its commit, each kind in one statement however many were recorded (issue 21: a round
trip per table, not per row). A row recorded inside a savepoint that rolls back is dropped with
it; the rows of a transaction that ends without writing them (rolled back, closed) are gone.

The audit log's entries and the jobs a request enqueues are written this way, and the checks a
transaction's writes depend on (`check_with_writes`). On PostgreSQL all of them and what the
flush itself would write go in one statement (market.db.together); otherwise, or when the flush
holds what that writer leaves to the unit of work, each kind has its own statement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.orm import SessionTransaction

from market.db import together
from market.db.direct import settle_rider_in_flush

Writer = Callable[[SyncSession, list[Any]], None]
# The rows as parts of the one statement that writes a flush on PostgreSQL (market.db.together).
Renderer = Callable[[together.Batch, list[Any]], None]


class Deferred:
    """One kind of deferred row: `record` keeps it with the (sub)transaction it was recorded in,
    `write` hands every row recorded so far to the kind's writer, in the order recorded."""

    def __init__(self, name: str, writer: Writer, renderer: Renderer | None = None) -> None:
        self.key = f"market.pending.{name}"
        self.writer = writer
        self.renderer = renderer
        _KINDS.append(self)

    def record(self, session: AsyncSession, row: Any) -> None:
        sync = session.sync_session
        innermost = sync.get_nested_transaction() or sync.get_transaction()
        sync.info.setdefault(self.key, []).append((innermost, row))

    def recorded(self, session: SyncSession) -> list[Any]:
        """The rows recorded so far and not yet written, in the order recorded."""
        return [row for _, row in session.info.get(self.key, ())]

    def write(self, session: SyncSession) -> None:
        if rows := self.recorded(session):
            session.info.pop(self.key)
            self.writer(session, rows)

    async def write_now(self, session: AsyncSession) -> None:
        """Write the rows recorded so far now (a reader in the same transaction needs them)."""
        await session.run_sync(self.write)


_KINDS: list[Deferred] = []

# Rows per INSERT when a kind's rows are written by its own statements: well under both
# databases' limit on bound parameters per statement.
_ROWS_PER_INSERT = 1000


def table_rows(name: str, table: Table) -> Deferred:
    """A kind of deferred row that is a row of `table` (by column key): written as multi-row
    INSERTs of its own, or as a part of the one statement of `market.db.together`."""

    def insert_all(session: SyncSession, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            session.execute(insert(table).values(rows[start : start + _ROWS_PER_INSERT]))

    return Deferred(name, insert_all, lambda batch, rows: together.insert_rows(batch, table, rows))


@dataclass(frozen=True)
class Check:
    """A condition the transaction's writes depend on, checked in the statement that writes
    them (PostgreSQL): `part` builds a counted query, `verdict` refuses on what it produced."""

    part: Callable[[together.Batch], together.Part]
    verdict: together.Verdict


def _render_checks(batch: together.Batch, checks: list[Check]) -> None:
    for check in checks:
        batch.check(check.part(batch), check.verdict)


def _run_checks_alone(session: SyncSession, checks: list[Check]) -> None:
    """Each check as a statement of its own, before the unit of work writes (its fallback)."""
    for check in checks:
        batch = together.Batch(session.get_bind().dialect)
        batch.check(check.part(batch), check.verdict)
        together.execute(session, batch)


_CHECKS = Deferred("checks", _run_checks_alone, _render_checks)


def check_with_writes(session: AsyncSession, check: Check) -> None:
    """Check `check` in the next statement this transaction sends through `market.db.together`
    (its writes, or a `run_now`), not in a round trip of its own (PostgreSQL only)."""
    _CHECKS.record(session, check)


def run_now(session: SyncSession, part: Callable[[together.Batch], together.Part]) -> together.Produced:
    """Send `part` (a counted one) now, with the checks recorded so far in the same statement;
    what it produced, once the checks' verdicts have passed."""
    batch = together.Batch(session.get_bind().dialect)
    batch.parts.append(part(batch))
    _render_checks(batch, _CHECKS.recorded(session))
    session.info.pop(_CHECKS.key, None)
    produced = together.execute(session, batch)[0]
    assert produced is not None, "run_now sends a counted part"
    return produced


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def _write_all(session: SyncSession) -> None:
    # Nothing is written for a caller whose credential no read has checked yet.
    settle_rider_in_flush(session)
    if write_together(session) is None:
        for kind in _KINDS:
            kind.write(session)


# Parts a caller puts first in the statement that writes a flush (an idempotency key claimed).
Extra = Callable[[together.Batch], None]


def write_together(session: SyncSession, extra: Extra | None = None) -> list[together.Produced | None] | None:
    """On PostgreSQL, the recorded rows and what the flush would write, as one statement, with
    `extra`'s parts first; what each part produced, in order (`extra`'s first). None (nothing
    done) when some of it is left to the unit of work and the kinds' own writers."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    if any(kind.renderer is None and session.info.get(kind.key) for kind in _KINDS):
        return None
    work = together.plan(session)
    if work is None:
        return None
    batch = together.Batch(session.get_bind().dialect)
    if extra is not None:
        extra(batch)
    for kind in _KINDS:
        if kind.renderer is not None and (rows := kind.recorded(session)):
            kind.renderer(batch, rows)
    together.render_plan(batch, work)
    if len(batch.params.values) > together.MAX_PARAMETERS:
        return None
    for kind in _KINDS:
        session.info.pop(kind.key, None)
    produced = together.execute(session, batch) if batch.parts else []
    together.settle(session, work)
    return produced


async def flush_with(session: AsyncSession, extra: Extra) -> list[together.Produced | None] | None:
    """Flush now, with `extra`'s parts in the same statement (PostgreSQL): what each part
    produced, `extra`'s first; None when the flush could not be one statement (then nothing
    was written and the caller sends its own statement)."""
    return await session.run_sync(lambda sync: write_together(sync, extra))


@event.listens_for(SyncSession, "before_flush")
def _before_flush(session: SyncSession, _context: Any, _instances: Any) -> None:
    _write_all(session)


@event.listens_for(SyncSession, "before_commit")
def _before_commit(session: SyncSession) -> None:
    _write_all(session)


@event.listens_for(SyncSession, "after_soft_rollback")
def _after_rollback(session: SyncSession, previous: SessionTransaction) -> None:
    for kind in _KINDS:
        pending = session.info.get(kind.key)
        if pending:
            session.info[kind.key] = [(t, row) for t, row in pending if not _within(t, previous)]


@event.listens_for(SyncSession, "after_transaction_end")
def _after_end(session: SyncSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        for kind in _KINDS:
            session.info.pop(kind.key, None)
