"""Booking rules through the JSON API and the database: no overlap of different lengths,
the exclusion constraint itself, cancelling frees a slot, Idempotency-Key, bad input
refused with nothing half-saved, and manage tokens stored only as a hash."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from clb.db import Base, transaction
from clb.jobs import OutboxJob
from clb.services import Services
from scheduling.appointments import changes as appointment_changes
from scheduling.appointments.message_jobs import NOTIFY_JOB
from scheduling.appointments.models import Appointment
from tests.scheduling.booking_helpers import (
    COPY_BYPASSING_SERVICE,
    at,
    counsellor_with_open_day,
    count,
    error_of,
    field_named,
    open_day,
)
from tests.scheduling.support import bookable_counsellor, booking_body

BOOK = "/api/appointments"


async def book(client: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await client.post(BOOK, json=body, headers=headers)


# --- No overlap ----------------------------------------------------------------------------


async def test_an_overlapping_booking_of_another_length_is_refused(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    staff, school, day = await counsellor_with_open_day(db)
    # Kennismaking 10:00: 30 minutes + 10 minutes buffer, so 10:00-10:40 is blocked.
    first = await book(client, booking_body(school, staff, at(day, 10), type="kennismaking"))
    assert first.status_code == 201, first.text
    # Gesprek (45 + 15 min) at 09:15 would block until 10:15; at 10:30 it starts in the buffer.
    for clock in ((9, 15), (9, 30), (9, 45), (10, 0), (10, 15), (10, 30)):
        refused = await book(client, booking_body(school, staff, at(day, *clock)))
        assert refused.status_code == 409, (clock, refused.text)
        assert error_of(refused.json())["code"] == "slot_taken"
    # Up to the edges it fits: 09:00-10:00 (with buffer) and from 10:45.
    for clock in ((9, 0), (10, 45)):
        fits = await book(client, booking_body(school, staff, at(day, *clock)))
        assert fits.status_code == 201, (clock, fits.text)
    assert await count(db, Appointment) == 3


async def test_the_database_itself_refuses_an_overlapping_row(
    client: httpx.AsyncClient, db: AsyncSession, database_url: str
) -> None:
    """Bypassing the service: an INSERT that overlaps a booked time of the same counsellor
    fails on the exclusion constraint (SQLSTATE 23P01)."""
    staff, school = await bookable_counsellor(db)
    other, _ = await bookable_counsellor(db)
    day = await open_day(db, school.centre_id)
    booked = await book(client, booking_body(school, staff, at(day, 10)))
    assert booked.status_code == 201, booked.text
    existing = uuid.UUID(booked.json()["id"])  # blocked 10:00-11:00

    copy = COPY_BYPASSING_SERVICE
    connection = await asyncpg.connect("postgresql://" + database_url.split("://", 1)[1])
    try:
        with pytest.raises(asyncpg.exceptions.ExclusionViolationError) as refused:
            await connection.execute(
                copy, existing, None, at(day, 10, 30), at(day, 11, 30), "confirmed"
            )
        assert refused.value.sqlstate == "23P01"
        assert refused.value.constraint_name == "ex_appointments_no_overlap"
        # A one-minute overlap is enough; no_show rows block as well.
        with pytest.raises(asyncpg.exceptions.ExclusionViolationError):
            await connection.execute(
                copy, existing, None, at(day, 9, 30), at(day, 10, 1), "no_show"
            )
        # What the constraint allows: touching ranges, cancelled rows, other counsellors.
        await connection.execute(copy, existing, None, at(day, 11), at(day, 11, 45), "confirmed")
        await connection.execute(copy, existing, None, at(day, 10), at(day, 11), "cancelled")
        await connection.execute(copy, existing, other.id, at(day, 10), at(day, 11), "confirmed")
    finally:
        await connection.close()
    assert await count(db, Appointment) == 4


async def test_a_cancelled_booking_frees_its_slot(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school, day = await counsellor_with_open_day(db)
    body = booking_body(school, staff, at(day, 14))
    first = await book(client, body)
    assert first.status_code == 201, first.text
    assert (await book(client, body)).status_code == 409

    async def offered() -> set[datetime]:
        params: dict[str, str | int] = {
            "school": str(school.id),
            "type": "gesprek",
            "mode": "office",
            "start": day.isoformat(),
            "days": 1,
        }
        response = await client.get("/api/appointments/slots", params=params)
        assert response.status_code == 200, response.text
        return {datetime.fromisoformat(slot["starts_at"]) for slot in response.json()["slots"]}

    assert at(day, 14) not in await offered()
    async with transaction(services.sessionmaker) as session:
        await appointment_changes.cancel(
            session, services, uuid.UUID(first.json()["id"]), by_staff=False
        )
    assert at(day, 14) in await offered()
    again = await book(
        client,
        booking_body(
            school,
            staff,
            at(day, 14),
            contact={"first_name": "Jonas", "phone": "0470 12 34 56", "language": "nl"},
        ),
    )
    assert again.status_code == 201, again.text
    await db.rollback()
    statuses = Counter((await db.scalars(select(Appointment.status))).all())
    assert statuses == {"cancelled": 1, "confirmed": 1}


async def test_the_maximum_per_day_holds_when_different_slots_are_booked_at_once(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    # Each booking locks (counsellor, day) before it reads that day: one that waited for the
    # lock still counts the bookings committed meanwhile, so no fourth one slips in.
    staff, school, day = await counsellor_with_open_day(db, max_per_day=3)
    bodies = [
        booking_body(
            school,
            staff,
            at(day, hour),
            contact={"first_name": f"Ouder {hour}", "email": f"ouder{hour}@example.be"},
        )
        for hour in range(9, 17)
    ]
    responses = await asyncio.gather(*(book(client, body) for body in bodies))
    assert Counter(r.status_code for r in responses) == {201: 3, 409: 5}
    assert {error_of(r.json())["code"] for r in responses if r.status_code == 409} == {"slot_taken"}
    assert await count(db, Appointment) == 3


# --- Idempotency-Key -----------------------------------------------------------------------


async def test_same_idempotency_key_five_times_at_once_books_once(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    staff, school, day = await counsellor_with_open_day(db)
    body = booking_body(school, staff, at(day, 11))
    key = str(uuid.uuid4())
    responses = await asyncio.gather(
        *(book(client, body, **{"Idempotency-Key": key}) for _ in range(5))
    )
    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1  # the very same body, manage link included
    replayed = [r.headers.get("Idempotent-Replayed") for r in responses]
    assert Counter(replayed) == {"true": 4, None: 1}
    assert await count(db, Appointment) == 1
    # Messages were planned once: one confirmation, the reminders once each.
    jobs = (await db.scalars(select(OutboxJob).where(OutboxJob.kind == NOTIFY_JOB))).all()
    kinds = Counter(job.payload["kind"] for job in jobs)
    assert kinds == {"confirmation": 1, "reminder": 2}

    # The same key with another body is a mistake of the client, not a replay.
    for changed in (
        booking_body(
            school, staff, at(day, 11), contact={"first_name": "Sam", "email": "sam@example.be"}
        ),
        booking_body(school, staff, at(day, 13)),
    ):
        reused = await book(client, changed, **{"Idempotency-Key": key})
        assert reused.status_code == 422, reused.text
        error = error_of(reused.json())
        assert error["code"] == "idempotency_key_reused"
        assert error["message"] == "Deze Idempotency-Key werd al gebruikt voor een andere aanvraag."
    assert await count(db, Appointment) == 1
    # The key is not kept in clear either.
    await db.rollback()
    stored = await db.scalar(select(Appointment.idempotency_key_hash))
    assert stored == hashlib.sha256(f"booking:{key}".encode()).hexdigest()


# --- Bad input -----------------------------------------------------------------------------

VALIDATION = "Niet alle gegevens zijn juist ingevuld."
BAD_INPUT: dict[str, tuple[dict[str, Any], str, str, str]] = {
    # name: (changes to a valid body, error code, field, Dutch message)
    "past": (
        {"when": "past"},
        "invalid_booking",
        "slot",
        "Dit moment is al voorbij. Kies een moment in de toekomst.",
    ),
    "unknown school": (
        {"school_id": str(uuid.uuid4())},
        "invalid_booking",
        "school",
        "Kies je school uit de lijst.",
    ),
    "unknown type": (
        {"type": "bestaat-niet"},
        "invalid_booking",
        "type",
        "Kies waarover de afspraak gaat.",
    ),
    "malformed e-mail": (
        {"contact": {"first_name": "Sara", "email": "sara@@example"}},
        "invalid_booking",
        "email",
        "Dit e-mailadres klopt niet. Bijvoorbeeld: naam@voorbeeld.be",
    ),
    "malformed phone": (
        {"contact": {"first_name": "Sara", "phone": "04-ab-12"}},
        "invalid_booking",
        "phone",
        "Dit telefoonnummer klopt niet. Bijvoorbeeld: 0470 12 34 56",
    ),
    "neither e-mail nor phone": (
        {"contact": {"first_name": "Sara", "email": " "}},
        "invalid_booking",
        "email",
        "Geef een e-mailadres of een telefoonnummer, zodat we je kunnen bereiken.",
    ),
    "blank first name": (
        {"contact": {"first_name": "   ", "email": "sara@example.be"}},
        "invalid_booking",
        "first_name",
        "Vul je voornaam in.",
    ),
    "naive datetime": ({"when": "naive"}, "validation_failed", "starts_at", VALIDATION),
    "topic too long": (
        {"contact": {"first_name": "Sara", "email": "sara@example.be", "topic": "x" * 501}},
        "validation_failed",
        "contact.topic",
        VALIDATION,
    ),
    "first name too long": (
        {"contact": {"first_name": "S" * 61, "email": "sara@example.be"}},
        "validation_failed",
        "contact.first_name",
        VALIDATION,
    ),
    "unknown mode": ({"mode": "teleport"}, "validation_failed", "mode", VALIDATION),
    "not a uuid": ({"counsellor_id": "an"}, "validation_failed", "counsellor_id", VALIDATION),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
async def test_bad_input_is_refused_clearly_and_nothing_is_saved(
    case: str, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    changes, code, field, message = BAD_INPUT[case]
    staff, school, day = await counsellor_with_open_day(db)
    changes = dict(changes)
    when = changes.pop("when", None)
    body = booking_body(school, staff, at(day, 10), **changes)
    if when == "past":
        yesterday = datetime.now(UTC) - timedelta(days=1)
        body["starts_at"] = yesterday.replace(hour=9, minute=0, second=0, microsecond=0).isoformat()
    elif when == "naive":
        body["starts_at"] = datetime.combine(day, time(10)).isoformat()  # noqa: DTZ001 - the point
    response = await book(client, body, **{"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    error = error_of(response.json())
    assert (error["code"], field_named(error), error["message"]) == (code, field, message)
    assert await count(db, Appointment) == 0
    assert await count(db, OutboxJob) == 0


async def test_a_time_the_schedule_does_not_offer_is_taken_with_fresh_slots(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """A well-formed moment outside the hours (or off the quarter-hour grid, on a weekend, or
    with a counsellor of another centre) cannot be told apart from one taken meanwhile: the
    answer is 409 ``slot_taken`` with moments that are free, and nothing is saved."""
    staff, school = await bookable_counsellor(db)
    stranger, _ = await bookable_counsellor(db)
    day = await open_day(db, school.centre_id)
    saturday = day + timedelta(days=(5 - day.weekday()) % 7)
    for body in (
        booking_body(school, staff, at(day, 7)),
        booking_body(school, staff, at(day, 16, 30)),  # 45 minutes do not fit before 17:00
        booking_body(school, staff, at(day, 10, 7)),
        booking_body(school, staff, at(saturday, 10)),
        booking_body(school, stranger, at(day, 10)),
    ):
        response = await book(client, body)
        assert response.status_code == 409, response.text
        error = error_of(response.json())
        assert error["code"] == "slot_taken"
        assert error["message"] == "Dit moment is niet (meer) vrij. Kies een ander moment."
        assert error["details"]["slots"]
        assert {slot["counsellor_id"] for slot in error["details"]["slots"]} == {str(staff.id)}
    assert await count(db, Appointment) == 0
    assert await count(db, OutboxJob) == 0


# --- Manage tokens -------------------------------------------------------------------------


async def test_the_manage_token_is_stored_only_as_its_sha256(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    staff, school, day = await counsellor_with_open_day(db)
    response = await book(client, booking_body(school, staff, at(day, 15)))
    assert response.status_code == 201, response.text
    manage_url = response.json()["manage_url"]
    token = manage_url.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, base64url
    digest = hashlib.sha256(token.encode()).hexdigest()

    await db.rollback()
    text_columns = (
        await db.scalars(
            text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = 'appointments' "
                "AND data_type IN ('text', 'character varying', 'character', 'jsonb', 'json')"
            )
        )
    ).all()
    assert "manage_token_hash" in text_columns and len(text_columns) >= 10
    select_all = ", ".join(f'"{column}"::text' for column in text_columns)
    row = (await db.execute(text(f"SELECT {select_all} FROM appointments"))).one()  # noqa: S608
    values = dict(zip(text_columns, row, strict=True))
    assert values["manage_token_hash"] == digest
    assert not [column for column, value in values.items() if value and token in value]
    # Nor anywhere else in the database (outbox payloads, notifications, audit …).
    for table in Base.metadata.sorted_tables:
        everything = "string_agg(row_to_json(t)::text, '')"
        query = f"SELECT coalesce({everything}, '') FROM \"{table.name}\" t"  # noqa: S608
        dump = await db.scalar(text(query))
        assert token not in (dump or ""), table.name
    # The hash is what finds the appointment again.
    found = await appointment_changes.by_manage_token(db, token)
    assert found is not None and str(found.id) == response.json()["id"]
    assert (
        await appointment_changes.by_manage_token(
            db, token[:-1] + ("A" if token[-1] != "A" else "B")
        )
        is None
    )
