"""Helpers for the chat's browser tests: a visitor who starts a chat, a counsellor who
claims it, and what the page keeps in sessionStorage."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, Route, expect
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation, Status
from clb.auth.models import StaffAccount
from clb.db import utcnow
from tests.conftest import TEST_PASSWORD
from tests.e2e.support import MOBILE, NewPage, log_in

STORAGE_KEY = "clb-chat"  # what chat.js keeps in sessionStorage
NEXT_OPENING = "2030-11-27T13:00:00+00:00"  # a Wednesday, 14.00 in Brussels
NEXT_OPENING_NL = "woensdag 27 november om 14.00 uur"
NEXT_OPENING_EN = "Wednesday 27 November at 14:00"


# The migration's default week: Monday to Thursday until 21:00, from 14:00 on Wednesday.
DEFAULT_OPENING = {0: "17:00", 1: "17:00", 2: "14:00", 3: "17:00"}


def closed_hours() -> dict[str, Any]:
    """GET /api/chat/opening-hours as the server answers outside the opening hours."""
    return {
        "open": False,
        "intake_open": False,
        "closes_at": None,
        "intake_closes_at": None,
        "next_opening": NEXT_OPENING,
        "intake_stop_minutes": 15,
        "timezone": "Europe/Brussels",
        "weekly": [
            {"weekday": weekday, "opens_at": opens_at, "closes_at": "21:00"}
            for weekday, opens_at in DEFAULT_OPENING.items()
        ],
        "exceptions": [],
    }


async def answer_closed(page: Page) -> None:
    async def fulfil(route: Route) -> None:
        await route.fulfill(json=closed_hours(), headers={"Cache-Control": "no-store"})

    await page.route("**/api/chat/opening-hours", fulfil)


async def fill_form(
    page: Page,
    nickname: str = "Sam",
    who: str = "Leerling",
    topic: str = "school",
) -> None:
    await page.get_by_label("Hoe mogen we je noemen?").fill(nickname)
    await page.get_by_role("radio", name=who).check()
    await page.get_by_label("Waarover gaat het?").select_option(topic)
    await page.get_by_label("Ik heb gelezen hoe het CLB met mijn chat omgaat.").check()


async def start_chat(page: Page, base_url: str, nickname: str = "Sam") -> None:
    """Open /chat, fill in the form and wait in the queue."""
    await page.goto(base_url + "/chat")
    await fill_form(page, nickname)
    await page.get_by_role("button", name="Start de chat").click()
    await expect(page.get_by_role("heading", name="Je staat in de wachtrij")).to_be_visible()
    await expect(page.locator("#queue-position")).not_to_be_empty()


async def a_waiting_chat(new_page: NewPage, base_url: str) -> tuple[Page, Page]:
    """Sam waiting in the chat on a phone, and a second page for the console: (the
    visitor's page, the console's page)."""
    visitor = await new_page(viewport=MOBILE)
    console = await new_page()
    await start_chat(visitor, base_url)
    return visitor, console


async def hold_and_open_console(
    db: AsyncSession,
    conversation: Conversation,
    staff: StaffAccount,
    email: str,
    pages: tuple[Page, Page],
    base_url: str,
) -> None:
    """``staff`` (logging in as ``email``) holds the chat and opens the console on it; the
    visitor's page picks it up when it reloads. Held directly in the database: claiming,
    duty and presence have their own browser tests."""
    visitor, console = pages
    conversation.status = Status.active.value
    conversation.counsellor_id = staff.id
    conversation.claimed_at = utcnow()
    await db.commit()
    await log_in(console, base_url, email, TEST_PASSWORD)
    await console.goto(base_url + "/console/chat")
    await expect(console.get_by_role("heading", name="Sam", exact=True)).to_be_visible()
    await visitor.reload()


async def open_console(
    page: Page, base_url: str, email: str = "an@clb.example", *, on_duty: bool = True
) -> None:
    """Log in and open the chat console; ``on_duty`` sets "In dienst" (claims need it)."""
    await log_in(page, base_url, email, TEST_PASSWORD)
    await page.goto(base_url + "/console/chat")
    await expect(page.get_by_role("heading", name="Wachtrij")).to_be_visible()
    if on_duty:
        await go_on_duty(page)


async def go_on_duty(page: Page) -> None:
    # Wait for the server's state first, so it cannot overwrite the click afterwards.
    await expect(page.locator("#duty-state[data-duty]")).to_be_attached()
    await page.get_by_role("radio", name="In dienst").check()
    await expect(page.locator("#duty-state")).to_have_attribute("data-duty", "on_duty")


async def claim(console: Page, nickname: str = "Sam") -> None:
    item = console.locator(".queue-item", has_text=nickname)
    await item.get_by_role("button", name="Aannemen").click()
    await expect(console.get_by_role("heading", name=nickname, exact=True)).to_be_visible()


async def chat_until_claimed(
    visitor: Page, console: Page, base_url: str, console_url: str | None = None
) -> None:
    """Visitor in the queue, counsellor claims, both see the chat."""
    await start_chat(visitor, base_url)
    await open_console(console, console_url or base_url)
    await claim(console)
    await expect(visitor.get_by_role("heading", name="Je chat met An")).to_be_visible()


async def visitor_says(visitor: Page, text: str) -> None:
    await visitor.get_by_label("Je bericht aan An").fill(text)
    await visitor.keyboard.press("Enter")


async def counsellor_says(console: Page, text: str, nickname: str = "Sam") -> None:
    await console.get_by_label(f"Bericht aan {nickname}").fill(text)
    await console.get_by_label(f"Bericht aan {nickname}").press("Enter")


async def bodies(page: Page, kind: str) -> list[str]:
    """The texts of the shown messages of one kind: own, other or system."""
    return await page.locator(f".msg-{kind} .msg-body").all_inner_texts()


async def stored_chat(page: Page) -> Any:
    return await page.evaluate(f"sessionStorage.getItem({STORAGE_KEY!r})")


def has_text(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text))
