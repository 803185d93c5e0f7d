"""Critical alerts about the log itself (a forged entry, a stopped log, a witness refusing).

The alert store (`market.alerts`) sits above the audit log, since every alert it raises is
itself recorded in the log; so, as features register their party checks with
`market.audit.queries`, the alert store registers here, at import, how an alert is raised. The
alert is raised in the caller's transaction, with the change it is about.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("market.audit")

# (session, rule, summary, evidence, subject type, subject id): raise a critical alert.
CriticalAlert = Callable[[AsyncSession, str, str, dict[str, object], str, str], Awaitable[object]]
_raise: CriticalAlert | None = None


def register_alert_store(raise_critical: CriticalAlert) -> None:
    global _raise
    _raise = raise_critical


async def raise_critical(
    session: AsyncSession, rule: str, summary: str, evidence: dict[str, object], subject: tuple[str, str]
) -> None:
    if _raise is None:  # a tool that loaded no alert store: the log line is all there is
        log.critical("audit alert %s (no alert store in this process): %s", rule, summary)
        return
    await _raise(session, rule, summary, evidence, *subject)
