"""Periodic settlement work on the job queue, each idempotent and safe to run at once from
several processes: rows are claimed with SKIP LOCKED, or the work is keyed so doing it twice
does it once. Each returns how many things it did."""

from __future__ import annotations

from datetime import timedelta

from market.alerts.findings import Finding
from market.alerts.service import raise_alert
from market.audit.log import record
from market.common.clock import now
from market.jobs import job
from market.payments import escrow, ledger, payout_repository, refunds, repository
from market.payments.provider import PAYMENT_PROVIDER
from market.runtime import Runtime

BATCH = 200
# A refund younger than this is still being asked of the provider by the request that decided it.
RETRY_AFTER = timedelta(minutes=2)


@job("payments.release_due_payouts", schedule="*/5 * * * *")
async def release_due_payouts(runtime: Runtime) -> int:
    """The acceptance window passed without a dispute: the seller's payout is due. (A payout
    whose proceeds were all refunded, or are being, has nothing to release and waits for the
    refund to cancel it.)"""
    released = 0
    while True:
        in_batch = 0
        async with runtime.sessionmaker() as session, session.begin():
            batch = await payout_repository.payouts_past_window(session, now(), BATCH)
            for payout in batch:
                held = -(await ledger.balances(session, payout.order_id)).get(ledger.SELLER_HELD, 0)
                if held > 0:
                    await escrow.release(session, payout, actor="system", why="acceptance window passed")
                    in_batch += 1
        released += in_batch
        if len(batch) < BATCH or in_batch == 0:
            return released


@job("payments.flag_overdue_disputes", schedule="7 * * * *")
async def flag_overdue_disputes(runtime: Runtime) -> int:
    """Open disputes past their resolution deadline (working days) are reported to operators once."""
    flagged = 0
    async with runtime.sessionmaker() as session, session.begin():
        for dispute in await repository.overdue_disputes(session, now(), BATCH):
            dispute.overdue_alerted_at = now()
            await record(
                session,
                actor="system",
                action="dispute.overdue",
                subject_type="dispute",
                subject_id=dispute.id,
                payload={"order_id": str(dispute.order_id), "resolve_by": dispute.resolve_by},
            )
            await raise_alert(
                session,
                Finding(
                    rule="dispute-overdue",
                    severity="medium",
                    summary=f"dispute over order {dispute.order_id} was due for resolution by "
                    f"{dispute.resolve_by.isoformat()}",
                    evidence={
                        "dispute_id": str(dispute.id),
                        "reason": dispute.reason,
                        "source": dispute.source,
                    },
                ),
                "dispute",
                str(dispute.id),
            )
            flagged += 1
    return flagged


@job("payments.retry_requested_refunds", schedule="*/5 * * * *")
async def retry_requested_refunds(runtime: Runtime) -> int:
    """Ask the provider again for refunds it has not confirmed (it was unreachable, or its
    refund was pending). Keyed by the refund's id at the provider, so nothing is refunded twice."""
    async with runtime.sessionmaker() as session:
        ids = await repository.requested_refund_ids(session, now() - RETRY_AFTER, BATCH)
    return await refunds.execute_refunds(
        runtime.sessionmaker, runtime.port(PAYMENT_PROVIDER), ids, quiet=True
    )
