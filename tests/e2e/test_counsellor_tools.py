"""The counsellor's tools in a real browser: a canned reply inserted by keyboard only and
sent, a private note the visitor never sees, a handover code with two safe links, and the
outcome recorded after the end."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation
from chat.counsellor_tools.models import CannedReply, ConversationOutcome
from tests.conftest import make_staff
from tests.e2e.chat_support import a_waiting_chat, hold_and_open_console
from tests.e2e.support import NewPage

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTE = "Privé: vermoedelijk faalangst, volgende keer naar school vragen"


async def focus_by_keyboard(page: Page, name: str, tries: int = 15) -> None:
    """Shift+Tab backwards from where focus is until the button called ``name``."""
    for _ in range(tries):
        await page.keyboard.press("Shift+Tab")
        label = await page.evaluate("(document.activeElement?.textContent || '').trim()")
        if label == name:
            return
    raise AssertionError(f"no button {name!r} reachable by keyboard")


async def test_canned_reply_note_handover_and_outcome(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    staff = await make_staff(db)
    db.add_all(
        [
            CannedReply(
                centre_id=staff.centre_id,
                owner_id=staff.id,
                title="Welkom",
                body="Dag {naam}, fijn dat je er bent.",
            ),
            CannedReply(
                centre_id=staff.centre_id, owner_id=None, title="Afsluiten", body="Bedankt!"
            ),
        ]
    )
    await db.commit()
    visitor, console = await a_waiting_chat(new_page, live_server)
    conversation = await db.scalar(select(Conversation))
    assert conversation is not None
    await hold_and_open_console(
        db, conversation, staff, "an@clb.example", (visitor, console), live_server
    )
    await expect(visitor.get_by_label("Je bericht aan An")).to_be_visible()

    # Keyboard only: from the message box to the picker, filter, choose, insert.
    box = console.get_by_label("Bericht aan Sam")
    await expect(box).to_be_visible()
    await box.focus()
    await focus_by_keyboard(console, "Snel antwoord")
    await console.keyboard.press("Enter")
    search = console.get_by_role("combobox", name="Zoek een snel antwoord")
    await expect(search).to_be_focused()
    await expect(console.get_by_role("option")).to_have_count(2)
    await console.keyboard.type("welk")
    await expect(console.get_by_role("option")).to_have_count(1)
    await console.keyboard.press("ArrowDown")
    await expect(console.get_by_role("option", selected=True)).to_contain_text("Welkom")
    await console.keyboard.press("Enter")
    # Inserted, not sent: the counsellor edits before sending.
    await expect(box).to_be_focused()
    await expect(box).to_have_value("Dag Sam, fijn dat je er bent.")
    await expect(visitor.locator(".msg-other")).to_have_count(0)
    await console.keyboard.type(" Vertel maar.")
    await console.keyboard.press("Enter")
    await expect(visitor.locator(".msg-other .msg-body")).to_have_text(
        ["Dag Sam, fijn dat je er bent. Vertel maar."]
    )

    # A private note.
    await console.get_by_role("button", name="Notities", exact=True).click()
    note_box = console.get_by_label("Nieuwe notitie")
    await expect(note_box).to_be_focused()
    await console.get_by_role("button", name="Notitie bewaren").click()
    await expect(console.get_by_text("Schrijf eerst een notitie.")).to_be_visible()
    await note_box.fill(NOTE)
    await console.get_by_role("button", name="Notitie bewaren").click()
    await expect(console.locator(".note-body")).to_have_text([NOTE])
    await expect(console.get_by_role("button", name="Notities (1)")).to_be_visible()

    # A handover code: the visitor gets it with two links to our own pages.
    await console.get_by_role("button", name="Afspraak of gesprek aanbieden").click()
    await console.get_by_role("button", name="Ja, aanbieden").click()
    await expect(console.get_by_text(re.compile(r"Verstuurd\. De code is"))).to_be_visible()
    meeting = visitor.locator(".msg-system a", has_text="/liever-iemand-zien?code=")
    booking = visitor.locator(".msg-system a", has_text="/afspraak?code=")
    await expect(meeting).to_have_count(1)
    await expect(booking).to_have_count(1)
    assert re.fullmatch(
        r"/liever-iemand-zien\?code=\w{4}-\w{4}", await meeting.get_attribute("href") or ""
    )

    # The end, then the outcome (errors next to the field first).
    await console.get_by_role("button", name="Beëindigen").click()
    await console.get_by_role("button", name="Ja, beëindigen").click()
    outcome = console.locator(".outcome-form")
    await expect(outcome.get_by_role("heading", name="Resultaat van het gesprek")).to_be_visible()
    await outcome.get_by_role("button", name="Resultaat bewaren").click()
    await expect(
        outcome.locator(".field-error", has_text="Kies minstens één onderwerp.")
    ).to_be_visible()
    # Focus goes to the first topic, so the counsellor can choose at once.
    await expect(outcome.get_by_label("Studiekeuze")).to_be_focused()
    await outcome.get_by_label("Faalangst").check()
    await outcome.get_by_label("Eigen CLB").check()
    await outcome.get_by_label("Korte samenvatting voor een overdracht (niet verplicht)").fill(
        "Examenstress"
    )
    await outcome.get_by_role("button", name="Resultaat bewaren").click()
    await expect(outcome.get_by_text(re.compile("Het resultaat is bewaard"))).to_be_visible()
    row = await db.scalar(select(ConversationOutcome).execution_options(populate_existing=True))
    assert row is not None
    assert (row.topics, row.referrals, row.summary) == (
        ["faalangst"],
        ["eigen_clb"],
        "Examenstress",
    )
    assert row.handover_code_hash is not None

    # The visitor's page never showed the note.
    assert "Privé" not in await visitor.content()
    await expect(visitor.get_by_text(NOTE)).to_have_count(0)
