"""Publishing the audit log's checkpoints: sequence what writers appended and sign a tree head,
every `MARKET_AUDIT_HEAD_INTERVAL_SECONDS` (0: never on a schedule). Readers only read the
latest head; nothing signs inside a request."""

from __future__ import annotations

from market.audit.service import current_head, latest_head
from market.jobs import every, job
from market.runtime import Runtime


@job("audit.publish_checkpoint", schedule=lambda settings: every(settings.audit_head_interval_seconds))
async def publish_checkpoint(runtime: Runtime) -> int:
    """Sequence pending entries and sign a new head if the tree grew: 1 if one was signed.

    The one function to swap for `market.audit.publisher.publish` when the transparency
    publisher lands. The sequencer's advisory lock makes concurrent runs safe.
    """
    async with runtime.sessionmaker() as session, session.begin():
        before = await latest_head(session)
        head = await current_head(session, runtime.settings)
    return int(before is None or head.id != before.id)
