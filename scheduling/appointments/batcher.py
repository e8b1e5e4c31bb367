"""Group commit for the booking API: the bookings that arrive while one batch is being
written go together in the next, in one transaction (scheduling.appointments.booking.book_many).

Nothing waits on purpose: when no batch is running, a request starts one at once, alone.
Under load, batches grow by themselves, and the locks, the read, the INSERTs, the commit
and the ARQ enqueue are paid once per batch instead of once per booking. A booking that is
refused or finds its slot taken does not affect its batch-mates; only an INSERT that fails
on a constraint (usually a booking the batch's read could not see) undoes the batch, and
then each of its requests is booked alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from clb.db import transaction, utcnow
from clb.services import Services
from scheduling.appointments.booking import BatchConflict, Outcome, Wish, book_many

MAX_BATCH = 32

Waiting = tuple[Wish, "asyncio.Future[Outcome]"]


class BookingBatcher:
    """One per process (``of``)."""

    KEY = "scheduling.booking_batcher"

    def __init__(self, services: Services, *, max_batch: int = MAX_BATCH) -> None:
        self.services = services
        self.max_batch = max_batch
        self._waiting: list[Waiting] = []
        self._runner: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, services: Services) -> BookingBatcher:
        batcher = services.local.get(cls.KEY)
        if batcher is None:
            batcher = services.local[cls.KEY] = cls(services)
        assert isinstance(batcher, BookingBatcher)  # noqa: S101 - one type under this key
        return batcher

    async def book(self, wish: Wish) -> Outcome:
        """The outcome once its batch is committed (a Booked is durable by then)."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((wish, future))
        if self._runner is None:
            self._runner = self.services.run_in_background(self._run())
        return await future

    async def _run(self) -> None:
        try:
            while self._waiting:
                await self._book(self._take())
        finally:
            self._runner = None
            # Only when stopped (the services shut down): nobody will book these.
            for _, future in self._waiting:
                if not future.done():
                    future.set_exception(RuntimeError("booking stopped"))
            self._waiting = []

    def _take(self) -> list[Waiting]:
        """The next batch: in order of arrival, skipping requests whose caller gave up; a
        second request with the same Idempotency-Key waits for the next batch (it will be
        a replay of the first)."""
        batch: list[Waiting] = []
        later: list[Waiting] = []
        keys: set[str] = set()
        for waiting in self._waiting:
            wish, future = waiting
            if future.done():
                continue
            if len(batch) >= self.max_batch or wish.idempotency_key in keys:
                later.append(waiting)
                continue
            if wish.idempotency_key is not None:
                keys.add(wish.idempotency_key)
            batch.append(waiting)
        self._waiting = later
        return batch

    async def _book(self, batch: list[Waiting]) -> None:
        now = utcnow()
        try:
            try:
                outcomes = await self._transaction([wish for wish, _ in batch], now)
            except BatchConflict:
                for waiting in batch:
                    await self._book_alone(waiting, now)
                return
        except BaseException as exc:
            _fail([future for _, future in batch], exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)

    async def _book_alone(self, waiting: Waiting, now: datetime) -> None:
        wish, future = waiting
        try:
            [outcome] = await self._transaction([wish], now)
        except Exception as exc:
            _fail([future], exc)
            return
        if not future.done():
            future.set_result(outcome)

    async def _transaction(self, wishes: Sequence[Wish], now: datetime) -> list[Outcome]:
        async with transaction(self.services.sessionmaker) as session:
            return await book_many(session, self.services, wishes, now=now)


def _fail(futures: list[asyncio.Future[Outcome]], exc: BaseException) -> None:
    for future in futures:
        if not future.done():
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
