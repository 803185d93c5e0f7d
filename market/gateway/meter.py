"""Exact, cheap counting of gateway calls: no database write per call.

Each gateway process reserves blocks of a licence's calls from the database
(`delivery.reserve_calls`: one atomic UPDATE that succeeds only while used + reserved stays
within the quota, in smaller blocks as the quota runs out) and spends them in memory. What it
used is counted, and what it holds unused is given back, when it reserves its next block, on
a flush every second (`Meter.flush`: unused calls of a licence idle for `IDLE_SECONDS` go back,
so another process can have them) and at shutdown. So however many processes serve a licence,
the calls they forward never exceed its quota; a process that dies loses only its unused
reservation (those calls stay reserved until the quota's period ends), never counts a call twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError

from market.delivery import service as delivery
from market.gateway import repository
from market.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BLOCK = 100  # calls reserved at once: at most one database write per 100 calls
IDLE_SECONDS = 2.0  # a licence unused this long gives its unused reservation back


@dataclass(eq=False)
class _Block:
    licence_id: uuid.UUID
    entitlement_id: uuid.UUID
    period: int
    limited: bool  # the licence has a quota (else nothing is reserved, calls are only counted)
    available: int = 0  # reserved and not yet spent
    used: int = 0  # spent and counted, not yet written
    days: Counter[date] = field(default_factory=Counter)
    failed_days: Counter[date] = field(default_factory=Counter)
    last_use: float = field(default_factory=time.monotonic)
    last_grant: int = 0  # the size of the last block reserved
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def pending(self) -> bool:
        return bool(self.used or self.days or self.failed_days)


class Ticket:
    """One call's claim on the quota: `finish(counted=...)` once the call's outcome is known."""

    __slots__ = ("_block", "_done")

    def __init__(self, block: _Block) -> None:
        self._block, self._done = block, False

    def finish(self, *, counted: bool, day: date) -> None:
        if self._done:
            return
        self._done = True
        block = self._block
        if counted:
            block.used += 1
            block.days[day] += 1
        else:  # not counted: the call goes back to the reservation
            if block.limited:
                block.available += 1
            block.failed_days[day] += 1


class Meter:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime  # its sessionmaker is read at each write (tests may swap it)
        self._blocks: dict[uuid.UUID, _Block] = {}
        self._retired: list[_Block] = []  # blocks of a period that ended, with counts to write
        self._refills: set[asyncio.Task[None]] = set()

    async def acquire(self, access: delivery.ApiAccess, at: datetime) -> Ticket | None:
        """A call of the licence, if its quota allows one (None: quota exceeded)."""
        period = access.period(at)
        block = self._blocks.get(access.entitlement_id)
        if block is None or block.period != period:
            if block is not None:
                self._retired.append(block)
            block = _Block(
                access.licence.id, access.entitlement_id, period, limited=access.call_quota is not None
            )
            self._blocks[access.entitlement_id] = block
        block.last_use = time.monotonic()
        if not block.limited:
            return Ticket(block)
        if block.available <= 0:
            async with block.lock:
                if block.available <= 0:
                    await self._refill(block)
        if block.available <= 0:
            return None
        block.available -= 1
        if block.last_grant > 1 and block.available <= block.last_grant // 4 and not block.lock.locked():
            # The next block is reserved while this one's last quarter is spent, so a busy
            # licence's calls do not wait for the database.
            task = asyncio.create_task(self._refill_soon(block))
            self._refills.add(task)
            task.add_done_callback(self._refills.discard)
        return Ticket(block)

    async def _refill(self, block: _Block) -> None:
        granted = await self._write(block, release=False, reserve=MAX_BLOCK)
        block.available += granted
        block.last_grant = granted

    async def _refill_soon(self, block: _Block) -> None:
        if block.lock.locked():
            return
        try:
            async with block.lock:
                if block.available <= block.last_grant // 4:
                    await self._refill(block)
        except Exception:  # the call that needs the calls reserves them itself, and reports
            log.exception("reserving the next block of licence %s failed", block.licence_id)

    async def _write(self, block: _Block, *, release: bool, reserve: int = 0) -> int:
        """In one short transaction: count what the block used, give back its unused calls
        (`release`), add its days, and reserve up to `reserve` more. Returns the calls reserved.
        On failure the block is as before, so nothing is lost or counted twice."""
        used, days, failed = block.used, block.days, block.failed_days
        released = block.available if release and block.limited else 0
        block.used, block.days, block.failed_days = 0, Counter(), Counter()
        block.available -= released
        try:
            async with self.runtime.sessionmaker() as session, session.begin():
                if used or released:
                    await delivery.settle_calls(
                        session,
                        block.entitlement_id,
                        block.period,
                        used=used,
                        released=released,
                        reserved=block.limited,
                    )
                for day in sorted(set(days) | set(failed)):
                    await repository.add_usage(
                        session, block.licence_id, day, calls=days[day], failed_calls=failed[day]
                    )
                if not reserve:
                    return 0
                return await delivery.reserve_calls(
                    session, block.entitlement_id, block.period, at_most=reserve
                )
        except BaseException:
            block.used += used
            block.days.update(days)
            block.failed_days.update(failed)
            block.available += released
            raise

    async def flush(self, *, release_all: bool = False) -> None:
        """Write every licence's counted calls; give back the unused reservations of licences
        idle for IDLE_SECONDS (all of them with `release_all`, at shutdown). A licence whose
        write fails (its rows gone, the database away) is logged and tried again next time."""
        if release_all and self._refills:  # a block being reserved now is given back too
            await asyncio.gather(*self._refills, return_exceptions=True)
        idle_before = time.monotonic() - IDLE_SECONDS
        retired, self._retired = self._retired, []
        for block in [*retired, *self._blocks.values()]:
            release = block.available > 0 and (
                release_all or block in retired or block.last_use < idle_before
            )
            if not (block.pending() or release):
                continue
            try:
                async with block.lock:
                    await self._write(block, release=release)
            except IntegrityError:  # the licence is gone (a wiped test database): nothing to count
                log.warning(
                    "gateway usage of licence %s dropped: the licence no longer exists", block.licence_id
                )
                block.used, block.days, block.failed_days, block.available = 0, Counter(), Counter(), 0
            except Exception:
                log.exception(
                    "gateway usage of licence %s not written; retried at the next flush", block.licence_id
                )
                if block in retired:
                    self._retired.append(block)
        for key, block in list(self._blocks.items()):  # forget idle licences with nothing held
            if block.last_use < idle_before and not block.pending() and block.available <= 0:
                del self._blocks[key]

    def forget(self) -> None:
        """Drop every block unwritten (tests that wipe the database under a running app)."""
        self._blocks.clear()
        self._retired.clear()
