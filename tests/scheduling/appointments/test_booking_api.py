"""Booking through the JSON API: offered slots can be booked once, and only once."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.db import commit, rollback
from clb.services import Services
from scheduling.appointments import booking, changes
from scheduling.appointments.booking_input import BookingRequest, Contact
from scheduling.appointments.models import Appointment
from scheduling.errors import SlotTaken
from tests.scheduling.support import bookable_counsellor, booking_body, next_weekday_at


async def test_offered_slot_books_once(client: httpx.AsyncClient, db: AsyncSession) -> None:
    staff, school = await bookable_counsellor(db)
    starts = next_weekday_at(1, time(10))
    slots = await client.get(
        "/api/appointments/slots",
        params={
            "school": str(school.id),
            "type": "gesprek",
            "mode": "office",
            "start": starts.date().isoformat(),
            "days": 1,
        },
    )
    assert slots.status_code == 200, slots.text
    offered = {datetime.fromisoformat(s["starts_at"]) for s in slots.json()["slots"]}
    assert starts in offered
    first = await client.post("/api/appointments", json=booking_body(school, staff, starts))
    assert first.status_code == 201, first.text
    assert "/afspraak/beheer/" in first.json()["manage_url"]
    again = await client.post("/api/appointments", json=booking_body(school, staff, starts))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "slot_taken"
    assert again.json()["error"]["details"]["slots"]
    # 45 min + 15 min buffer: 10:45 and 11:00 are taken by the buffer, 11:00 is free.
    overlapping = await client.post(
        "/api/appointments",
        json=booking_body(school, staff, starts + timedelta(minutes=45), type="kennismaking"),
    )
    assert overlapping.status_code == 409
    after_buffer = await client.post(
        "/api/appointments", json=booking_body(school, staff, starts + timedelta(minutes=60))
    )
    assert after_buffer.status_code == 201, after_buffer.text
    count = await db.scalar(select(func.count()).select_from(Appointment))
    assert count == 2


async def test_staff_may_move_inside_the_notice_people_are_held_to(
    db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db, min_notice_working_days=3)
    now = next_weekday_at(0, time(8))  # a Monday morning
    booked = await booking.book(
        db,
        services,
        BookingRequest(
            school.id,
            "gesprek",
            "office",
            staff.id,
            # A Monday at least a week on, outside the seeded Christmas closure.
            next_weekday_at(0, time(10), after=now + timedelta(days=5)),
            Contact("Sara", "sara@example.be", None),
        ),
        now=now,
    )
    await commit(db)
    appointment_id, counsellor_id = booked.appointment.id, staff.id
    tomorrow = now + timedelta(days=1, hours=2)  # Tuesday 10:00, inside 3 working days
    with pytest.raises(SlotTaken):
        await changes.reschedule(
            db, services, appointment_id, counsellor_id, tomorrow, by_staff=False, now=now
        )
    await rollback(db)
    moved = await changes.reschedule(
        db,
        services,
        appointment_id,
        counsellor_id,
        tomorrow,
        by_staff=True,
        reason="Ziekte",
        now=now,
    )
    assert moved.starts_at == tomorrow and moved.sequence == 1
