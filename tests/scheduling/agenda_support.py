"""Arranging appointments for the console tests and reading the pages they produce."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.jobs import OutboxJob
from clb.org.models import School
from clb.services import Services
from scheduling.agenda.service import agenda_clock
from scheduling.appointments import booking
from scheduling.appointments.booking_input import BookingRequest, Contact
from scheduling.appointments.models import Appointment
from tests.clb.auth.helpers import form_token, login

HTML = {"accept": "text/html"}


async def book_at(
    db: AsyncSession,
    services: Services,
    staff: StaffAccount,
    school: School,
    starts_at: datetime,
    *,
    now: datetime | None = None,
    type_slug: str = "gesprek",
    mode: str = "office",
    first_name: str = "Sara",
    email: str | None = "sara.ouder@example.be",
    phone: str | None = "0470 12 34 56",
    topic: str = "Mijn dochter slaapt slecht voor toetsen.",
) -> Appointment:
    """An appointment booked through the booking service (as if ``now`` were the time of
    booking, so past weeks can be arranged too), committed."""
    booked = await booking.book(
        db,
        services,
        BookingRequest(
            school_id=school.id,
            type_slug=type_slug,
            mode=mode,
            counsellor_id=staff.id,
            starts_at=starts_at,
            contact=Contact(first_name, email, phone, "nl", topic),
        ),
        now=now or starts_at - timedelta(days=3),
    )
    await db.commit()
    return booked.appointment


async def switch_user(client: httpx.AsyncClient, email: str) -> None:
    """Log ``client`` in as someone else (a fresh cookie jar, as a new browser)."""
    client.cookies.clear()
    response = await login(client, email)
    assert response.status_code == 303, response.text


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], *, token_page: str
) -> httpx.Response:
    data = {**data, "csrf_token": await form_token(client, token_page)}
    return await client.post(path, data=data, headers=HTML)


@contextmanager
def clock_at(app: FastAPI, moment: datetime) -> Iterator[None]:
    app.dependency_overrides[agenda_clock] = lambda: moment
    try:
        yield
    finally:
        app.dependency_overrides.pop(agenda_clock, None)


_DAY = re.compile(r'<section class="agenda-day[^"]*" aria-labelledby="day-(\d{4}-\d\d-\d\d)">')


def days_of(page: str) -> dict[str, str]:
    """The agenda page cut into its days: ISO date -> that day's HTML."""
    parts = _DAY.split(page)
    return {parts[i]: parts[i + 1].split("</section>")[0] for i in range(1, len(parts), 2)}


async def notify_jobs(db: AsyncSession, appointment: Appointment) -> list[OutboxJob]:
    await db.commit()
    rows = await db.scalars(
        select(OutboxJob)
        .where(
            OutboxJob.kind == booking.NOTIFY_JOB,
            OutboxJob.payload["appointment_id"].astext == str(appointment.id),
        )
        .order_by(OutboxJob.id)
    )
    return list(rows)


async def reload(db: AsyncSession, appointment: Appointment) -> Appointment:
    await db.commit()
    await db.refresh(appointment)
    return appointment
