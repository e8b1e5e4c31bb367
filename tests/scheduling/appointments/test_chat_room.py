"""Chat by appointment: at the agreed time the person's chat goes straight to their
counsellor's open console (a real server process), without queue or opening hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation
from clb.db import commit
from clb.services import Services
from scheduling.appointments import booking, chat_room
from scheduling.appointments.booking_input import BookingRequest, Contact
from scheduling.appointments.models import Appointment
from tests.chat.support import Visitor, console, staff_cookie
from tests.scheduling.booking_pages_support import book_directly, csrf_of, move_to
from tests.scheduling.support import bookable_counsellor, next_weekday_at


async def _chat_appointment(db: AsyncSession, services: Services, email: str) -> Appointment:
    staff, school = await bookable_counsellor(db, email=email, modes=["chat"])
    starts = next_weekday_at(2, time(10))
    booked = await booking.book(
        db,
        services,
        BookingRequest(
            school_id=school.id,
            type_slug="gesprek",
            mode="chat",
            counsellor_id=staff.id,
            starts_at=starts,
            contact=Contact("Mila", "mila@example.be", None),
        ),
    )
    await commit(db)
    return booked.appointment


async def test_chat_opens_only_around_the_appointment(db: AsyncSession, services: Services) -> None:
    appointment = await _chat_appointment(db, services, "room1@clb.example")
    too_early = appointment.starts_at - timedelta(minutes=11)
    assert await chat_room.open_chat(db, services, appointment, too_early) is None
    after = appointment.ends_at
    assert await chat_room.open_chat(db, services, appointment, after) is None
    assert await db.scalar(select(Conversation.id)) is None


async def test_chat_goes_to_the_counsellors_console(
    db: AsyncSession, services: Services, live_server: str
) -> None:
    appointment = await _chat_appointment(db, services, "room2@clb.example")
    staff_console = await console(live_server, await staff_cookie(live_server, "room2@clb.example"))
    at_start = appointment.starts_at - timedelta(minutes=2)
    handoff = await chat_room.open_chat(db, services, appointment, at_start)
    assert handoff is not None
    await commit(db)
    claimed = await staff_console.expect("claimed")
    assert claimed["conversation"]["id"] == handoff.conversation_id
    assert claimed["conversation"]["nickname"] == "Mila"

    person = Visitor(live_server, handoff.visitor_token, handoff.conversation_id)
    socket = await person.connect()
    await socket.say("Hallo, ik ben er.")
    received = await staff_console.expect("message", sender="visitor")
    assert received["body"] == "Hallo, ik ben er."

    # A second device (or a lost tab) takes over the same conversation with a new identity.
    again = await chat_room.open_chat(db, services, appointment, at_start + timedelta(minutes=5))
    assert again is not None and again.conversation_id == handoff.conversation_id
    assert again.visitor_token != handoff.visitor_token
    await commit(db)
    await socket.close()
    await staff_console.close()
    stored = await db.scalar(select(Appointment).where(Appointment.id == appointment.id))
    assert stored is not None and str(stored.conversation_id) == handoff.conversation_id
    assert datetime.now(UTC) < stored.ends_at


async def test_manage_page_starts_the_chat_at_the_agreed_time(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db, email="room3@clb.example", modes=["chat"])
    appointment, token = await book_directly(
        db, services, staff, school, next_weekday_at(3, time(11)), mode="chat"
    )
    await client.get(f"/afspraak/beheer/{token}")
    early = await client.get("/afspraak/beheer")
    assert "De chat opent om" in early.text and 'action="/afspraak/beheer/chat"' not in early.text

    await move_to(db, appointment, datetime.now(UTC) + timedelta(minutes=5))
    page = await client.get("/afspraak/beheer")
    assert 'action="/afspraak/beheer/chat"' in page.text
    handoff = await client.post("/afspraak/beheer/chat", data={"csrf_token": csrf_of(page.text)})
    assert handoff.status_code == 200
    assert handoff.headers["cache-control"] == "no-store"
    assert 'src="/static/js/chat-handoff.js"' in handoff.text
    conversation = await db.scalar(
        select(Conversation).where(Conversation.counsellor_id == staff.id)
    )
    assert conversation is not None and conversation.status == "active"
    assert f'data-conversation="{conversation.id}"' in handoff.text
