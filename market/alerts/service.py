"""Gather facts for the abnormal-trade rules, raise alerts once, let operators acknowledge."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.alerts.models import RiskAlert
from market.alerts.rules import Finding, OrderFacts, PartyFacts, Thresholds, check_order, repeated_refusals
from market.audit.log import record
from market.audit.models import AuditEntry
from market.common.clock import now
from market.errors import Conflict, NotFound
from market.orders.models import Order
from market.participants.models import Participant, User

REFUSAL_ACTIONS = ("order.refused_by_compliance", "quote.refused_by_compliance")


async def _parties(session: AsyncSession, *participant_ids: uuid.UUID) -> list[PartyFacts]:
    """Facts about each participant, their users' mail domains read in one query."""
    stmt = select(User.participant_id, User.email).where(User.participant_id.in_(participant_ids))
    domains: dict[uuid.UUID, set[str]] = {pid: set() for pid in participant_ids}
    for pid, email in await session.execute(stmt):
        if pid is not None:  # staff users belong to no participant
            domains[pid].add(email.rsplit("@", 1)[-1])
    facts = []
    for pid in participant_ids:
        participant = await session.get(Participant, pid)  # usually in the session already
        facts.append(
            PartyFacts(str(pid), participant.credit_code if participant else None, frozenset(domains[pid]))
        )
    return facts


async def _raise(
    session: AsyncSession, finding: Finding, subject_type: str, subject_id: str
) -> RiskAlert | None:
    duplicate = await session.scalar(
        select(RiskAlert.id).where(
            RiskAlert.rule == finding.rule, RiskAlert.subject_id == subject_id, RiskAlert.status == "open"
        )
    )
    if duplicate:
        return None
    alert = RiskAlert(
        rule=finding.rule,
        severity=finding.severity,
        subject_type=subject_type,
        subject_id=subject_id,
        summary=finding.summary,
        evidence=dict(finding.evidence),
        status="open",
        created_at=now(),
    )
    session.add(alert)
    await session.flush()
    await record(
        session,
        actor="system",
        action="alert.raised",
        subject_type=subject_type,
        subject_id=subject_id,
        payload={
            "alert_id": str(alert.id),
            "rule": finding.rule,
            "severity": finding.severity,
            "summary": finding.summary,
            "basis": "Art. 61",
        },
    )
    return alert


async def raise_alert(
    session: AsyncSession,
    kind: str,
    severity: str,
    evidence: dict[str, object],
    *,
    summary: str,
    subject: tuple[str, str] = ("system", "exchange"),
) -> RiskAlert | None:
    """Raise an alert found outside the trade rules (e.g. the audit log's own checks); like
    those, at most one open alert per kind and subject, and its raising is logged."""
    return await _raise(session, Finding(kind, severity, summary, evidence), *subject)


def product_history(product_id: uuid.UUID, before: datetime, window: int) -> Select[int]:
    """The totals of the product's latest `window` orders before `before`, newest first: the
    history a price is judged against (an index range, whatever the product has sold)."""
    return (
        select(Order.total_minor)
        .where(Order.product_id == product_id, Order.created_at < before)
        .order_by(Order.created_at.desc())
        .limit(window)
    )


async def recent_product_totals(session: AsyncSession, order: Order, window: int) -> tuple[int, ...]:
    stmt = product_history(order.product_id, order.created_at, window).where(Order.id != order.id)
    return tuple((await session.execute(stmt)).scalars())


ALERT_THRESHOLDS = "alert_thresholds"  # the key in Session.info (set from the settings)


def thresholds_of(session: AsyncSession) -> Thresholds:
    configured = session.info.get(ALERT_THRESHOLDS)
    return configured if isinstance(configured, Thresholds) else Thresholds()


async def scan_order(
    session: AsyncSession, order: Order, thresholds: Thresholds | None = None
) -> list[RiskAlert]:
    t = thresholds or thresholds_of(session)
    at = order.created_at
    earlier = await recent_product_totals(session, order, t.price_history_window)
    recent = (
        await session.execute(
            select(Order.id).where(
                Order.buyer_id == order.buyer_id,
                Order.created_at >= at - t.burst_window,
                Order.created_at <= at,
            )
        )
    ).scalars()
    reverse = (
        await session.execute(
            select(Order.id).where(
                and_(
                    Order.buyer_id == order.seller_id,
                    Order.seller_id == order.buyer_id,
                    Order.created_at >= at - t.round_trip_window,
                )
            )
        )
    ).scalars()
    buyer, seller = await _parties(session, order.buyer_id, order.seller_id)
    facts = OrderFacts(
        order_id=str(order.id),
        product_id=str(order.product_id),
        buyer=buyer,
        seller=seller,
        total_minor=order.total_minor,
        created_at=at,
        earlier_product_totals=earlier,
        buyer_recent_order_ids=tuple(str(i) for i in recent),
        reverse_trade_ids=tuple(str(i) for i in reverse),
    )
    raised = []
    for finding in check_order(facts, t):
        subject = (
            ("participant", str(order.buyer_id))
            if finding.rule == "purchase_burst"
            else ("order", str(order.id))
        )
        if (alert := await _raise(session, finding, *subject)) is not None:
            raised.append(alert)
    return raised


async def scan_refusals(
    session: AsyncSession, buyer_id: uuid.UUID, thresholds: Thresholds | None = None
) -> RiskAlert | None:
    t = thresholds or thresholds_of(session)
    await session.flush()  # the refusal just recorded counts too
    stmt = select(AuditEntry.id).where(
        AuditEntry.action.in_(REFUSAL_ACTIONS),
        AuditEntry.created_at >= now() - t.refusal_window,
        AuditEntry.leaf.contains(str(buyer_id)),
    )
    ids = [int(i) for i in (await session.execute(stmt)).scalars()]
    finding = repeated_refusals(str(buyer_id), ids, t)
    return await _raise(session, finding, "participant", str(buyer_id)) if finding else None


async def acknowledge(session: AsyncSession, alert_id: uuid.UUID, reason: str, actor: str) -> RiskAlert:
    alert = await session.get(RiskAlert, alert_id, with_for_update=True)
    if alert is None:
        raise NotFound("alert not found")
    if alert.status != "open":
        raise Conflict("the alert is already acknowledged")
    alert.status, alert.acknowledged_by, alert.acknowledgement, alert.acknowledged_at = (
        "acknowledged",
        actor,
        reason,
        now(),
    )
    await record(
        session,
        actor=actor,
        action="alert.acknowledged",
        subject_type=alert.subject_type,
        subject_id=alert.subject_id,
        payload={"alert_id": str(alert.id), "reason": reason},
    )
    return alert
