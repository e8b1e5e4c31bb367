"""The honest queue: a waiting visitor's position and an estimate we can stand behind.

EWT = (⌊(n−1)/X⌋+1) × recent median handling time (ARCHITECTURE §5, after comm100), rounded
up, and beyond half an hour only "more than 30 minutes". No counsellor on: no number.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chat.console import duty
from chat.conversations import repository
from chat.events import queue_channel
from chat.realtime import presence
from chat.realtime.connection import Connection
from clb.health.outage import is_outage, note_outage
from clb.services import Services

log = logging.getLogger(__name__)

# CLBCh@t's published average chat length, used until there are enough recent chats.
DEFAULT_HANDLING_MINUTES = 19.0
MIN_SAMPLE = 5
ESTIMATE_STEP_MINUTES = 5
ESTIMATE_CAP_MINUTES = 30
# Presence changes the estimate too, so waiting visitors hear again at least this often.
REFRESH_SECONDS = 10.0
SETTLE_SECONDS = 0.1
RETRY_START_SECONDS = 0.5
RETRY_MAX_SECONDS = 10.0


@dataclass(frozen=True)
class Estimate:
    minutes: int
    more_than: bool

    def as_dict(self) -> dict[str, Any]:
        return {"minutes": self.minutes, "more_than": self.more_than}


def estimate_wait(
    position: int, counsellors: int, capacity: int, busy: int, handling_minutes: float
) -> Estimate | None:
    """The estimate for ``counsellors`` alike, each with ``capacity`` slots, ``busy`` taken."""
    slots = counsellors * capacity
    return estimate_from_slots(position, slots, max(0, slots - busy), handling_minutes)


def estimate_from_slots(
    position: int, slots: int, free: int, handling_minutes: float
) -> Estimate | None:
    """EWT = (⌊(n−1)/X⌋+1) × handling time, where n is the place among those not served by
    a free slot right away and X the total slots of the available counsellors. Rounded up,
    and beyond the cap only "more than": a wrong exact figure is worse than an honest
    range. None: nobody is available."""
    if slots <= 0:
        return None
    if position <= free:
        return Estimate(ESTIMATE_STEP_MINUTES, more_than=False)
    n = position - free
    minutes = (math.floor((n - 1) / slots) + 1) * handling_minutes
    rounded = max(
        ESTIMATE_STEP_MINUTES, math.ceil(minutes / ESTIMATE_STEP_MINUTES) * ESTIMATE_STEP_MINUTES
    )
    if rounded > ESTIMATE_CAP_MINUTES:
        return Estimate(ESTIMATE_CAP_MINUTES, more_than=True)
    return Estimate(rounded, more_than=False)


async def capacity_now(session: AsyncSession, services: Services) -> tuple[int, int]:
    """(slots, free) of the available counsellors only: on duty with a fresh heartbeat,
    each with their own maximum and the chats they hold now. Paused, off-duty and gone
    counsellors count for nothing."""
    available = await duty.available_counsellors(session, services)
    return sum(c.max_chats for c in available), sum(c.free for c in available)


class QueueWatcher:
    """One per process: when the queue moves, one query recomputes the place of every
    waiting visitor connected to this process, instead of a query per visitor."""

    KEY = "chat.queue_watcher"

    def __init__(self, services: Services) -> None:
        self.services = services
        self.watchers: dict[uuid.UUID, Connection] = {}
        self._poke = asyncio.Event()
        self.failing = False

    @classmethod
    def of(cls, services: Services) -> QueueWatcher:
        watcher = services.local.get(cls.KEY)
        if watcher is None:
            watcher = services.local[cls.KEY] = cls(services)
            _ = services.run_in_background(watcher.run())
        assert isinstance(watcher, QueueWatcher)  # noqa: S101 - one type under this key
        return watcher

    def watch(self, conversation_id: uuid.UUID, connection: Connection) -> None:
        self.watchers[conversation_id] = connection
        self._poke.set()

    def unwatch(self, conversation_id: uuid.UUID, connection: Connection) -> None:
        if self.watchers.get(conversation_id) is connection:
            del self.watchers[conversation_id]

    async def run(self) -> None:
        """Follow the queue for the life of the process: a lost Redis subscription (an
        outage, a restart) is taken up again, and meanwhile the visitors keep the last
        position they were told."""
        pause = RETRY_START_SECONDS
        while True:
            try:
                await self._follow_moves()
            except Exception as error:  # noqa: BLE001 - the watcher must outlive any outage
                log.warning("queue watcher restarting: %s", type(error).__name__)
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_SECONDS)

    async def _follow_moves(self) -> None:
        async with self.services.bus.subscribe(queue_channel(self.services.keys)) as moves:
            while True:
                moves.drain()
                self._poke.clear()
                try:
                    await self.push()
                except Exception as error:
                    if not is_outage(error):
                        log.exception("queue update failed")
                    note_outage(log, "queue update", error)  # tried again at the next move
                    self.failing = True
                else:
                    if self.failing:
                        log.warning("queue updates again")
                    self.failing = False
                move = asyncio.ensure_future(moves.get())
                poke = asyncio.ensure_future(self._poke.wait())
                _, pending = await asyncio.wait(
                    {move, poke}, timeout=REFRESH_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in pending:
                    waiter.cancel()
                await asyncio.sleep(SETTLE_SECONDS)  # a burst of moves becomes one update

    async def push(self) -> None:
        if not self.watchers:
            return
        services = self.services
        async with services.sessionmaker() as session:
            waiting = await repository.waiting_ids(session)
            median, sample = await repository.median_handling_minutes(session)
            slots, free = await capacity_now(session, services)
        handling = median if sample >= MIN_SAMPLE else DEFAULT_HANDLING_MINUTES
        # Only visitors who are there count: one who went away keeps their place for when
        # they come back, but nobody behind them waits for them meanwhile.
        present = await presence.present_visitors(services.redis, services.keys, waiting)
        queue = [conversation_id for conversation_id in waiting if conversation_id in present]
        places = {conversation_id: place for place, conversation_id in enumerate(queue, 1)}
        still_waiting = set(waiting)
        for conversation_id, connection in list(self.watchers.items()):
            position = places.get(conversation_id)
            if conversation_id not in still_waiting:  # claimed or left: its feed says so
                del self.watchers[conversation_id]
                continue
            if position is None:  # connected, but not (yet) counted as there
                continue
            estimate = estimate_from_slots(position, slots, free, handling)
            connection.send(
                {
                    "type": "queue",
                    "conversation_id": str(conversation_id),
                    "position": position,
                    "estimate": estimate.as_dict() if estimate else None,
                }
            )


async def refresh_queue_metrics(services: Services) -> None:
    """For /metrics: waiting chats whose visitor is there, and those away (incl. never
    connected); the counsellors available to take them."""
    async with services.sessionmaker() as session:
        waiting = await repository.waiting_ids(session)
        available = await duty.available_counsellors(session, services)
    services.metrics.counsellors_available.set(len(available))
    present = await presence.present_visitors(services.redis, services.keys, waiting)
    services.metrics.queue.labels("present").set(len(present))
    services.metrics.queue.labels("away").set(len(waiting) - len(present))
