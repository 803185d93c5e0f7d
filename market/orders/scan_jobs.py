"""The abnormal-trade scans (Art. 61) as jobs: enqueued by the order (or the refusal) in its
transaction, they run after it commits instead of inside the buyer's request."""

from __future__ import annotations

import uuid

from market.jobs import job
from market.orders import abnormal
from market.orders.models import Order
from market.runtime import Runtime


@job("orders.scan_order", exclusive=False)
async def scan_order(runtime: Runtime, order_id: str) -> int:
    """The abnormal-trade rules over a new order; how many alerts it raised."""
    async with runtime.sessionmaker() as session, session.begin():
        order = await session.get(Order, uuid.UUID(order_id))
        if order is None:
            return 0
        return len(await abnormal.scan_order(session, order, runtime.settings.alert_thresholds))


@job("orders.scan_refusals", exclusive=False)
async def scan_refusals(runtime: Runtime, buyer_id: str) -> int:
    """Repeated compliance refusals of one buyer; 1 if it raised an alert."""
    async with runtime.sessionmaker() as session, session.begin():
        found = await abnormal.scan_refusals(session, uuid.UUID(buyer_id), runtime.settings.alert_thresholds)
        return int(found is not None)
