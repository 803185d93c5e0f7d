"""Prometheus gauges of the audit log, read from the database when `/metrics` is scraped.

The publisher runs in whichever process the job queue gives it (a worker, or `market serve` on
SQLite), so the gauges are not set by it but read from what it recorded: every replica reports
the same, and a stopped log shows on all of them. A scrape only reads.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.audit.checkpoints import cosignatures, latest_head
from market.audit.models import QuarantinedEntry
from market.audit.tree_models import LogState

log = logging.getLogger("market.audit")


class AuditMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.consistent = Gauge(
            "market_audit_log_consistent",
            "1 while the audit log reconciles; 0 once the publisher stopped it (see the alerts)",
            registry=registry,
        )
        self.tree_size = Gauge("market_audit_tree_size", "Entries sequenced into the tree", registry=registry)
        self.checkpoint_size = Gauge(
            "market_audit_checkpoint_size", "Size of the latest signed checkpoint", registry=registry
        )
        self.quorum_met = Gauge(
            "market_audit_witness_quorum_met",
            "1 if the latest checkpoint has its witness quorum",
            registry=registry,
        )
        self.quarantined = Gauge(
            "market_audit_entries_quarantined", "Entries refused as forged and quarantined", registry=registry
        )
        self.consistent.set(1)

    async def refresh(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Read the log's state; when the database does not answer, the last values stay."""
        try:
            async with sessionmaker() as session:
                state = (
                    await session.execute(select(LogState.tree_size, LogState.halted_kind))
                ).one_or_none()
                head = await latest_head(session)
                cosigned = 0 if head is None else len(await cosignatures(session, head.id))
                quarantined = int(
                    await session.scalar(select(func.count()).select_from(QuarantinedEntry)) or 0
                )
        except Exception:  # /metrics must answer whatever the database does
            log.warning("the audit log's metrics could not be read", exc_info=True)
            return
        self.consistent.set(1 if state is None or state.halted_kind is None else 0)
        self.tree_size.set(0 if state is None else state.tree_size)
        self.checkpoint_size.set(0 if head is None else head.tree_size)
        self.quorum_met.set(1 if head is not None and cosigned >= head.witness_quorum else 0)
        self.quarantined.set(quarantined)
