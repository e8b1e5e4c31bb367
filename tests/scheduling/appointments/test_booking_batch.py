"""Bookings made together in one transaction (scheduling.booking.book_many) and the
batcher that groups the API's concurrent requests (scheduling.batcher): every request is
judged as if it came alone, after the ones before it in its batch."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import datetime

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.db import transaction, utcnow
from clb.errors import UnstorableText
from clb.jobs import OutboxJob
from clb.services import Services
from scheduling.appointments import booking
from scheduling.appointments.batcher import BookingBatcher
from scheduling.appointments.booking import Booked, Outcome, Taken, Wish
from scheduling.appointments.booking_input import BookingRequest, Contact
from scheduling.appointments.models import Appointment
from scheduling.errors import InvalidBooking
from tests.scheduling.booking_helpers import (
    COPY_BYPASSING_SERVICE,
    at,
    counsellor_with_open_day,
    open_day,
)
from tests.scheduling.support import bookable_counsellor


def wish(
    school_id: uuid.UUID,
    counsellor_id: uuid.UUID,
    starts_at: datetime,
    *,
    kind: str = "gesprek",
    name: str = "Sara",
    key: str | None = None,
) -> Wish:
    request = BookingRequest(
        school_id,
        kind,
        "office",
        counsellor_id,
        starts_at,
        Contact(name, f"{name.lower()}@example.be", None),
    )
    return Wish(booking.prepare(request), key)


async def book_together(services: Services, wishes: list[Wish]) -> list[Outcome]:
    async with transaction(services.sessionmaker) as session:
        return await booking.book_many(session, services, wishes, now=utcnow())


async def stored(db: AsyncSession) -> list[Appointment]:
    await db.rollback()
    return list(await db.scalars(select(Appointment).order_by(Appointment.starts_at)))


async def test_each_request_of_a_batch_is_judged_after_the_ones_before_it(
    db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db)
    counsellor_name = staff.display_name
    day = await open_day(db, school.centre_id)
    outcomes = await book_together(
        services,
        [
            wish(school.id, staff.id, at(day, 10), name="Ann"),  # blocks 10:00-11:00
            # A kennismaking (30 + 10 min) at 10:30 overlaps Ann's: taken, as if alone.
            wish(school.id, staff.id, at(day, 10, 30), kind="kennismaking", name="Bo"),
            wish(uuid.uuid4(), staff.id, at(day, 13), name="Cas"),  # unknown school
            wish(school.id, staff.id, at(day, 11), name="Dirk"),  # right after Ann's buffer
            wish(school.id, staff.id, at(day, 10), name="Eva"),  # Ann's slot again
        ],
    )
    assert [type(outcome) for outcome in outcomes] == [
        Booked,
        Taken,
        InvalidBooking,
        Booked,
        Taken,
    ]
    refused = outcomes[2]
    assert isinstance(refused, InvalidBooking) and refused.field == "school"
    rows = await stored(db)
    assert [(row.first_name, row.starts_at) for row in rows] == [
        ("Ann", at(day, 10)),
        ("Dirk", at(day, 11)),
    ]
    # Written by the one INSERT exactly as the outcome says, manage token as a hash only.
    ann = outcomes[0]
    assert isinstance(ann, Booked)
    assert rows[0].id == ann.appointment.id
    assert rows[0].manage_token_hash == ann.appointment.manage_token_hash
    assert rows[0].manage_token_hash != ann.manage_token
    assert ann.counsellor_name == counsellor_name and ann.type_name
    # Messages for the two bookings only: a confirmation and two reminders each.
    jobs = await db.scalars(select(OutboxJob).where(OutboxJob.kind == booking.NOTIFY_JOB))
    payloads = [job.payload for job in jobs]
    assert sorted(p["appointment_id"] for p in payloads) == sorted(
        [str(rows[0].id)] * 3 + [str(rows[1].id)] * 3
    )


async def test_the_maximum_per_day_counts_the_batch_mates(
    db: AsyncSession, services: Services
) -> None:
    staff, school, day = await counsellor_with_open_day(db, max_per_day=2)
    outcomes = await book_together(
        services, [wish(school.id, staff.id, at(day, hour)) for hour in (9, 11, 13, 15)]
    )
    assert [type(outcome) for outcome in outcomes] == [Booked, Booked, Taken, Taken]
    assert len(await stored(db)) == 2


@pytest.fixture
def batcher(services: Services) -> BookingBatcher:
    """A batcher of its own, as each API process has one."""
    return BookingBatcher(services)


async def test_concurrent_api_requests_are_booked_in_one_transaction(
    db: AsyncSession, batcher: BookingBatcher
) -> None:
    staff, school, day = await counsellor_with_open_day(db)
    outcomes = await asyncio.gather(
        *(
            batcher.book(wish(school.id, staff.id, at(day, hour), name=f"Ouder{hour}"))
            for hour in (9, 11, 13, 15)
        )
    )
    assert all(isinstance(outcome, Booked) for outcome in outcomes)
    rows = await stored(db)
    assert len(rows) == 4
    # One batch: the four were stamped with the batch's one "now".
    assert len({row.created_at for row in rows}) == 1


NAMES = [(9, "Noor"), (11, "Sam"), (15, "Lien")]


async def test_text_the_database_cannot_store_fails_only_its_own_request(
    db: AsyncSession, batcher: BookingBatcher
) -> None:
    staff, school, day = await counsellor_with_open_day(db)
    requests = [wish(school.id, staff.id, at(day, hour), name=name) for hour, name in NAMES]
    # The NUL sits in the name only (the e-mail address is checked before booking).
    contact = Contact("Ou\x00der", "ouder@example.be", None)
    unstorable = BookingRequest(school.id, "gesprek", "office", staff.id, at(day, 13), contact)
    requests.insert(2, Wish(booking.prepare(unstorable), None))
    outcomes = await asyncio.gather(*map(batcher.book, requests), return_exceptions=True)
    assert [type(outcome) for outcome in outcomes] == [Booked, Booked, UnstorableText, Booked]
    assert sorted(row.first_name for row in await stored(db)) == ["Lien", "Noor", "Sam"]


async def test_one_idempotency_key_twice_at_once_books_once(
    db: AsyncSession, batcher: BookingBatcher
) -> None:
    staff, school, day = await counsellor_with_open_day(db)
    key = str(uuid.uuid4())
    outcomes = await asyncio.gather(
        *(batcher.book(wish(school.id, staff.id, at(day, 10), key=key)) for _ in range(3))
    )
    booked = [outcome for outcome in outcomes if isinstance(outcome, Booked)]
    assert len(booked) == 3
    assert [outcome.replayed for outcome in booked] == [False, True, True]
    assert len({outcome.appointment.id for outcome in booked}) == 1
    assert len(await stored(db)) == 1


async def test_a_request_given_up_before_its_batch_is_not_booked(
    db: AsyncSession, batcher: BookingBatcher
) -> None:
    staff, school, day = await counsellor_with_open_day(db)
    given_up = asyncio.create_task(batcher.book(wish(school.id, staff.id, at(day, 10))))
    await asyncio.sleep(0)  # it is waiting for its batch
    given_up.cancel()
    kept = await batcher.book(wish(school.id, staff.id, at(day, 13), name="Noor"))
    with pytest.raises(asyncio.CancelledError):
        await given_up
    assert isinstance(kept, Booked)
    assert [row.first_name for row in await stored(db)] == ["Noor"]


async def test_a_conflict_the_batch_could_not_see_undoes_it_and_each_is_booked_alone(
    db: AsyncSession, services: Services, database_url: str
) -> None:
    """The exclusion constraint stays the guarantee: a row the batch's read did not see
    makes its INSERT fail; nothing of the batch is kept, and each request is then booked in
    its own transaction, so only the one whose slot is really taken gets a conflict."""
    staff, school, day = await counsellor_with_open_day(db)
    [first] = await book_together(services, [wish(school.id, staff.id, at(day, 16), name="Eerst")])
    assert isinstance(first, Booked)
    outside = await asyncpg.connect("postgresql://" + database_url.split("://", 1)[1])
    try:
        writer = outside.transaction()
        await writer.start()
        # Not yet committed: the batch's read does not see it, its INSERT waits for it.
        await outside.execute(
            COPY_BYPASSING_SERVICE,
            first.appointment.id,
            None,
            at(day, 10),
            at(day, 11),
            "confirmed",
        )
        batcher = BookingBatcher(services)
        batch = asyncio.gather(
            batcher.book(wish(school.id, staff.id, at(day, 10), name="Botst")),
            batcher.book(wish(school.id, staff.id, at(day, 13), name="Past")),
        )
        await _until_a_lock_wait(outside)
        await writer.commit()
        clash, fits = await asyncio.wait_for(batch, timeout=30)
    finally:
        await outside.close()
    assert isinstance(clash, Taken) and clash.day == day
    assert isinstance(fits, Booked)
    rows = [(row.first_name, row.starts_at) for row in await stored(db)]
    assert rows == [("Eerst", at(day, 10)), ("Past", at(day, 13)), ("Eerst", at(day, 16))]


async def _until_a_lock_wait(connection: asyncpg.Connection, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await connection.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted"):
        assert asyncio.get_running_loop().time() < deadline, "the batch never waited"
        await asyncio.sleep(0.01)


async def test_a_batch_is_cut_at_its_maximum(db: AsyncSession, services: Services) -> None:
    staff, school, day = await counsellor_with_open_day(db)
    batcher = BookingBatcher(services, max_batch=2)
    outcomes = await asyncio.gather(
        *(
            batcher.book(wish(school.id, staff.id, at(day, hour), name=f"Ouder{hour}"))
            for hour in (9, 10, 11, 13, 14)
        )
    )
    assert all(isinstance(outcome, Booked) for outcome in outcomes)
    batches = Counter(row.created_at for row in await stored(db))
    assert sorted(batches.values()) == [1, 2, 2]
