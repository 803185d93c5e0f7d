"""Notification delivery as a job: enqueued by `notify` in the transaction that wrote the event,
re-enqueued for each retry, and swept every minute for anything else that is due."""

from __future__ import annotations

from market.jobs import enqueue, job
from market.notifications import delivery
from market.notifications.sender import WEBHOOK_SENDER
from market.runtime import Runtime

ROUNDS = 50  # deliveries per run: 50 rounds of delivery.BATCH


# Not exclusive: runs on several workers side by side are safe (claims with SKIP LOCKED, the
# sequencer's advisory lock), and a retry enqueued for later must not hold back the others, as a
# delayed job holding a procrastinate lock would.
@job("notifications.deliver", schedule="* * * * *", exclusive=False)
async def deliver_notifications(runtime: Runtime) -> int:
    """Sequence new events into the feed, fan them out, and send every delivery that is due."""
    settings, sender = runtime.settings, runtime.port(WEBHOOK_SENDER)
    async with runtime.sessionmaker() as session, session.begin():
        await delivery.sequence_events(session)
    sent = 0
    for _ in range(ROUNDS):
        async with runtime.sessionmaker() as session, session.begin():
            claimed = await delivery.load(session, await delivery.claim_due(session, settings))
        if not claimed:
            break
        for delivery_id, result in await delivery.send_claimed(settings, sender, claimed):
            async with runtime.sessionmaker() as session, session.begin():
                retry_in = await delivery.record(session, settings, delivery_id, result)
                if retry_in is not None:
                    await enqueue(session, deliver_notifications, delay=retry_in)
            sent += 1
    return sent
