"""Supervision pages with something on them, for the browser tests (accessibility)."""

from __future__ import annotations

from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from chat.console.models import ChatStaff
from clb.db import utcnow
from tests.chat.support import Socket, Visitor, console, staff_cookie
from tests.conftest import TEST_PASSWORD, make_centre, make_staff
from tests.e2e.support import log_in

CRISIS = "ik wil niet meer leven"  # in the default triage lexicon


async def a_chat_bart_claimed(db: AsyncSession, base_url: str) -> tuple[Visitor, Socket, Socket]:
    """Bart (counsellor, on duty) and Coco (coordinator) at one centre, and Robin's chat
    that Bart claimed: (Robin, Robin's socket, Bart's console socket)."""
    centre = await make_centre(db, read_along=True)
    bart = await make_staff(db, email="bart@clb.example", centre=centre)
    await make_staff(db, email="coco@clb.example", roles=("coordinator",), centre=centre)
    db.add(ChatStaff(staff_id=bart.id, duty="on_duty", duty_since=utcnow()))
    await db.commit()
    visitor = await Visitor.join(base_url, nickname="Robin")
    pupil = await visitor.connect()
    claimer = await console(base_url, await staff_cookie(base_url, "bart@clb.example"))
    await claimer.send({"type": "claim", "conversation_id": visitor.conversation_id})
    await claimer.expect("claimed")
    return visitor, pupil, claimer


async def supervision_pages(page: Page, db: AsyncSession, base_url: str) -> list[str]:
    """A running chat with a flag, a coordinator logged in on ``page``; the supervision
    pages to check: the dashboard (with a live alert on it), read-along and the audit log."""
    visitor, pupil, claimer = await a_chat_bart_claimed(db, base_url)

    await log_in(page, base_url, "coco@clb.example", TEST_PASSWORD)
    await page.goto(base_url + "/console/toezicht")
    await expect(page.locator("[data-updated]")).to_contain_text("Live bijgewerkt")
    await pupil.say(CRISIS)
    await expect(page.locator("#alerts .alert-item")).to_be_visible()
    await pupil.close()
    await claimer.close()
    return [
        "/console/toezicht",
        f"/console/toezicht/gesprek/{visitor.conversation_id}",
        "/console/audit",
    ]
