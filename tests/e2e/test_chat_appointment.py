"""Chat by appointment in the browser: at the agreed time the person starts the chat from
their manage page and lands straight in a chat with their counsellor, whose open console
shows it without claiming from the queue."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession

from clb.services import Services
from tests.e2e.chat_support import bodies, open_console, visitor_says
from tests.e2e.support import NewPage, assert_accessible
from tests.scheduling.booking_pages_support import book_directly, move_to
from tests.scheduling.support import bookable_counsellor, next_weekday_at


async def test_person_starts_the_chat_from_the_manage_page(
    new_page: NewPage, live_server: str, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db, email="an.room@clb.example", modes=["chat"])
    appointment, token = await book_directly(
        db, services, staff, school, next_weekday_at(1, time(15)), mode="chat"
    )
    await move_to(db, appointment, datetime.now(UTC) + timedelta(minutes=3))

    console = await new_page()
    await open_console(console, live_server, "an.room@clb.example")

    person = await new_page()
    await person.goto(f"{live_server}/afspraak/beheer/{token}")
    await expect(person.get_by_role("button", name="Start de chat")).to_be_visible()
    await assert_accessible(person)
    await person.get_by_role("button", name="Start de chat").click()
    await expect(person.get_by_role("heading", name="Je chat met An")).to_be_visible()
    assert "/chat" in person.url and token not in person.url

    await expect(console.get_by_role("heading", name="Sara", exact=True)).to_be_visible()
    await visitor_says(person, "Hallo, hier ben ik.")
    await expect(
        console.locator(".msg-other .msg-body", has_text="Hallo, hier ben ik.")
    ).to_be_visible()
    assert "Hallo, hier ben ik." in await bodies(person, "own")
