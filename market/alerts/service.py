"""The alert store: any feature raises an alert (once per rule and subject while it is open);
operators list and acknowledge them. Detectors live with what they watch (abnormal trades in
`market.orders.abnormal`, log tampering in `market.audit`)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from market.alerts import repository
from market.alerts.findings import Finding
from market.alerts.models import RiskAlert
from market.audit.alerting import register_alert_store
from market.audit.log import record
from market.common.clock import now
from market.errors import Conflict, NotFound
from market.notifications.outbox import OPERATORS, notify


async def raise_alert(
    session: AsyncSession, finding: Finding, subject_type: str, subject_id: str
) -> RiskAlert | None:
    """Store and audit `finding` as an open alert; None when the same rule already has an open
    alert on the same subject (an operator is already looking at it)."""
    if await repository.open_alert_exists(session, finding.rule, subject_id):
        return None
    alert = RiskAlert(
        id=uuid.uuid4(),
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
    await notify(
        session,
        "alert.raised",
        to=[OPERATORS],
        subject=(subject_type, subject_id),
        data={
            "alert_id": alert.id,
            "rule": finding.rule,
            "severity": finding.severity,
            "summary": finding.summary,
        },
    )
    return alert


async def acknowledge(session: AsyncSession, alert_id: uuid.UUID, reason: str, actor: str) -> RiskAlert:
    alert = await repository.lock(session, alert_id)
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


async def _raise_critical(
    session: AsyncSession,
    rule: str,
    summary: str,
    evidence: dict[str, object],
    subject_type: str,
    subject_id: str,
) -> None:
    await raise_alert(session, Finding(rule, "critical", summary, evidence), subject_type, subject_id)


register_alert_store(_raise_critical)  # the audit log's own findings (forged entries, a stopped log)
