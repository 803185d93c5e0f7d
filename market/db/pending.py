"""Rows a use case records during a transaction and that are written with the session's next
flush or its commit, each kind in one statement however many were recorded (issue 21: a round
trip per table, not per row). A row recorded inside a savepoint that rolls back is dropped with
it; the rows of a transaction that ends without writing them (rolled back, closed) are gone.

The audit log's entries and the jobs a request enqueues are written this way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.orm import SessionTransaction

Writer = Callable[[SyncSession, list[Any]], None]


class Deferred:
    """One kind of deferred row: `record` keeps it with the (sub)transaction it was recorded in,
    `write` hands every row recorded so far to the kind's writer, in the order recorded."""

    def __init__(self, name: str, writer: Writer) -> None:
        self.key = f"market.pending.{name}"
        self.writer = writer
        _KINDS.append(self)

    def record(self, session: AsyncSession, row: Any) -> None:
        sync = session.sync_session
        innermost = sync.get_nested_transaction() or sync.get_transaction()
        sync.info.setdefault(self.key, []).append((innermost, row))

    def write(self, session: SyncSession) -> None:
        pending = session.info.pop(self.key, None)
        if pending:
            self.writer(session, [row for _, row in pending])

    async def write_now(self, session: AsyncSession) -> None:
        """Write the rows recorded so far now (a reader in the same transaction needs them)."""
        await session.run_sync(self.write)


_KINDS: list[Deferred] = []


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def _write_all(session: SyncSession) -> None:
    for kind in _KINDS:
        kind.write(session)


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
