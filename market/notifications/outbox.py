"""`notify(...)`: the one call a feature makes when something happened that a participant (or
the exchange's operators) should hear about. The event is written in the caller's session, so
it exists if and only if the change it reports commits (a transactional outbox); the delivery
job is enqueued in the same transaction and sends it to the recipient's webhook endpoints.

Event types name what happened, as the audit log does: `registration.registered`,
`order.paid`, `licence.revoked`, `alert.raised`, ...
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.common.clock import now
from market.db.pending import table_rows
from market.jobs import enqueue
from market.notifications.models import NotificationEvent

# A recipient that is not a participant: every operator of the exchange.
OPERATORS: Final = "operators"
Recipient = uuid.UUID | str | None
_ENQUEUED = "notifications.delivery_enqueued"


def _plain(value: Any) -> Any:
    """JSON for the webhook body and the feed: ids and times as strings, money stays integer."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal | Enum):
        return str(value.value if isinstance(value, Enum) else value)
    return value


async def notify(
    session: AsyncSession,
    event_type: str,
    *,
    to: Iterable[Recipient],
    subject: tuple[str, uuid.UUID | str],
    data: Mapping[str, Any] | None = None,
    once: str | None = None,
) -> list[uuid.UUID]:
    """Write one event per recipient (participant ids, or OPERATORS); None recipients are
    skipped; the ids of the events written. `once` makes the event unique per recipient: a
    second notify with the same key writes nothing (deadline warnings).

    The events are rows recorded for the transaction's next flush or its commit, as audit
    entries are (market.db.pending: all of them in one INSERT, no mapped objects to track)."""
    recipients = list(dict.fromkeys(r for r in to if r is not None))
    # Made once for every recipient's event (nothing changes an event's data once written).
    plain = _plain(dict(data or {}))
    written = []
    for recipient in recipients:
        key = f"{once}:{recipient}" if once else None
        if key and await session.scalar(
            select(NotificationEvent.id).where(NotificationEvent.dedupe_key == key)
        ):
            continue
        event_id = uuid.uuid4()
        _EVENTS.record(
            session,
            {
                "id": event_id,
                "seq": None,
                "recipient_id": None if recipient == OPERATORS else uuid.UUID(str(recipient)),
                "audience": "operators" if recipient == OPERATORS else "participant",
                "type": event_type,
                "subject_type": subject[0],
                "subject_id": str(subject[1]),
                "data": plain,
                "dedupe_key": key,
                "created_at": now(),
            },
        )
        written.append(event_id)
    transaction = session.get_transaction()
    if written and session.info.get(_ENQUEUED) is not transaction:
        from market.notifications.jobs import deliver_notifications

        session.info[_ENQUEUED] = transaction  # one delivery job per transaction is enough
        await enqueue(session, deliver_notifications)
    return written


# The events recorded and not yet written (market.db.pending).
_EVENTS = table_rows("notification_events", cast(Table, NotificationEvent.__table__))
