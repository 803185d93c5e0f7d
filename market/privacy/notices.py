"""Telling participants what personal-information handling asks of them.

`send_notification` is the one place such a notice leaves the exchange. Until the notification
outbox (issue 15) lands it only logs that a notice is due (never who the person behind a request
is); every obligation and deadline is already visible through the API (`GET /v1/subject-requests`,
`GET /v1/licensee-obligations`), so nothing depends on the notice arriving.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("market.privacy.notices")


async def send_notification(
    session: AsyncSession,
    *,
    recipient_id: uuid.UUID | None,
    event: str,
    subject_type: str,
    subject_id: uuid.UUID,
    details: dict[str, Any],
) -> None:
    """Notify `recipient_id` (a participant; None: the exchange's operators) of `event`.

    Issue 15: enqueue the event in the outbox here, in `session`'s transaction, so it is sent
    (a signed webhook, `GET /v1/events`) exactly when the change that caused it commits.
    """
    log.info(
        "notification due: %s on %s %s for %s",
        event,
        subject_type,
        subject_id,
        recipient_id or "operators",
        extra={"details": details},
    )
