"""Supervision in the browser: a flagged chat appears on the coordinator's dashboard while
it is open; reading along and a whisper that shows up in the counsellor's console only."""

from __future__ import annotations

import pytest
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession

from chat.console.models import ChatStaff
from clb.db import utcnow
from tests.chat.support import Visitor, console, staff_cookie
from tests.conftest import TEST_PASSWORD, make_centre, make_staff
from tests.e2e.supervision_support import CRISIS, a_chat_bart_claimed
from tests.e2e.support import NewPage, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_a_flagged_chat_appears_on_the_open_dashboard(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    centre = await make_centre(db, read_along=True)
    await make_staff(db, email="coco@clb.example", roles=("coordinator",), centre=centre)
    bart = await make_staff(db, email="bart@clb.example", centre=centre)
    db.add(ChatStaff(staff_id=bart.id, duty="on_duty", duty_since=utcnow()))
    await db.commit()
    page = await new_page()
    await log_in(page, live_server, "coco@clb.example", TEST_PASSWORD)
    await page.goto(live_server + "/console/toezicht")
    await expect(page.get_by_role("heading", name="Toezicht op de chat", level=1)).to_be_visible()
    await expect(page.locator("[data-updated]")).to_contain_text("Live bijgewerkt")
    await expect(page.locator("#flagged-empty")).to_be_visible()

    visitor = await Visitor.join(live_server, nickname="Robin", subject="Over school")
    pupil = await visitor.connect()
    await pupil.say(f"Eerlijk gezegd {CRISIS}")

    alert = page.get_by_role("alert").filter(has_text="Robin")
    await expect(alert).to_contain_text("Signaal")
    await expect(alert).to_contain_text(CRISIS)
    flagged = page.locator("#flag-list .flag-item", has_text="Robin")
    await expect(flagged).to_be_visible()
    await expect(page.locator('[data-stat="waiting"]')).to_have_text("1")

    # A waiting chat is no centre's yet: reading along starts once Bart (same centre) has it.
    await expect(flagged).to_contain_text("wacht op een hulpverlener")
    claimer = await console(live_server, await staff_cookie(live_server, "bart@clb.example"))
    await claimer.send({"type": "claim", "conversation_id": visitor.conversation_id})
    await claimer.expect("claimed")
    await flagged.get_by_role("link", name="Meelezen met Robin").click()
    await expect(page.get_by_role("heading", name="Meelezen: Robin")).to_be_visible()
    await expect(page.locator("#read-list")).to_contain_text(CRISIS)
    await pupil.close()
    await claimer.close()


async def test_read_along_and_a_whisper_only_the_counsellor_sees(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    visitor, pupil, claimer = await a_chat_bart_claimed(db, live_server)
    await claimer.close()

    counsellor = await new_page()
    await log_in(counsellor, live_server, "bart@clb.example", TEST_PASSWORD)
    await counsellor.goto(live_server + "/console/chat")
    panel = counsellor.locator(f'.console-panel[data-id="{visitor.conversation_id}"]')
    await expect(panel).to_be_attached()

    coordinator = await new_page()
    await log_in(coordinator, live_server, "coco@clb.example", TEST_PASSWORD)
    await coordinator.goto(f"{live_server}/console/toezicht/gesprek/{visitor.conversation_id}")
    await pupil.say("Hallo, ben je daar?")
    await expect(coordinator.locator("#read-list")).to_contain_text("Hallo, ben je daar?")

    await coordinator.get_by_label("Bericht aan An").fill("Vraag of ze iemand heeft thuis.")
    await coordinator.get_by_role("button", name="Fluisteren").click()
    await expect(coordinator.locator("#whisper-sent")).to_contain_text("Vraag of ze iemand")

    whisper = panel.locator(".whisper-note")
    await expect(whisper).to_contain_text("Alleen voor jou — van An")
    await expect(whisper).to_contain_text("Vraag of ze iemand heeft thuis.")
    # Not in the message list the visitor shares.
    await expect(panel.locator(".msg-list")).not_to_contain_text("Vraag of ze iemand")
    await pupil.close()
