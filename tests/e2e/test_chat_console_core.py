"""The core console in real browsers: a warm transfer to a colleague (two counsellor
contexts and a visitor) without a gap for the visitor, a cold transfer back to the queue,
and "volgende gesprek" by keyboard only."""

from __future__ import annotations

import pytest
from playwright.async_api import expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from tests.conftest import make_staff
from tests.e2e.chat_support import (
    claim,
    counsellor_says,
    open_console,
    start_chat,
    visitor_says,
)
from tests.e2e.support import NewPage, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_a_warm_transfer_continues_the_visitors_chat_without_a_gap(
    new_page: NewPage, live_server: str, live_server_b: str, db: AsyncSession
) -> None:
    await make_staff(db, email="an@clb.example")
    bo = await make_staff(db, email="bo@clb.example")
    await db.execute(update(StaffAccount).where(StaffAccount.id == bo.id).values(display_name="Bo"))
    await db.commit()
    visitor, an, colleague = await new_page(), await new_page(), await new_page()

    await start_chat(visitor, live_server)
    await open_console(colleague, live_server_b, "bo@clb.example")  # another instance
    await open_console(an, live_server)
    await claim(an)
    await expect(visitor.get_by_role("heading", name="Je chat met An")).to_be_visible()
    await visitor_says(visitor, "Ik zie op tegen de examens.")
    await counsellor_says(an, "Wat maakt het zo moeilijk?")
    await expect(visitor.locator(".msg-other .msg-body")).to_have_text(
        ["Wat maakt het zo moeilijk?"]
    )

    # An hands the chat to Bo, with a note only Bo sees.
    await an.get_by_role("button", name="Doorgeven", exact=True).click()
    await an.get_by_role("radio", name="Bo").check()
    await an.get_by_label("Overdrachtsnotitie voor je collega").fill("Examenstress, slaapt slecht.")
    await an.get_by_role("button", name="Doorgeven aan collega").click()

    await expect(an.locator(".console-panel")).to_have_count(0)
    await expect(an.locator("#queue-notice")).to_have_text(
        "Het gesprek met Sam is doorgegeven aan Bo."
    )
    # Bo's open console opens it at once: the whole history and the handover note.
    await expect(colleague.get_by_role("heading", name="Sam", exact=True)).to_be_visible()
    await expect(colleague.locator("[data-handover]")).to_contain_text("Overdracht van An")
    await expect(colleague.locator("[data-handover]")).to_contain_text(
        "Examenstress, slaapt slecht."
    )
    await expect(colleague.locator(".msg-body")).to_have_text(
        [
            "An neemt deel aan het gesprek.",
            "Ik zie op tegen de examens.",
            "Wat maakt het zo moeilijk?",
            "Bo neemt het gesprek over.",
        ]
    )
    await expect(visitor.get_by_role("heading", name="Je chat met Bo")).to_be_visible()
    assert await visitor.get_by_text("Examenstress").count() == 0

    await counsellor_says(colleague, "Dag Sam, ik ben Bo. Ik heb gelezen wat je schreef.")
    await visitor.get_by_label("Je bericht aan Bo").fill("Fijn, dank je.")
    await visitor.keyboard.press("Enter")
    # The visitor's view: every message once, in order, nothing missing.
    await expect(visitor.locator(".msg-body")).to_have_text(
        [
            "An neemt deel aan het gesprek.",
            "Ik zie op tegen de examens.",
            "Wat maakt het zo moeilijk?",
            "Bo neemt het gesprek over.",
            "Dag Sam, ik ben Bo. Ik heb gelezen wat je schreef.",
            "Fijn, dank je.",
        ]
    )
    await expect(colleague.locator(".msg-other .msg-body")).to_have_text(
        ["Ik zie op tegen de examens.", "Fijn, dank je."]
    )
    await assert_accessible(colleague)


async def test_a_cold_transfer_puts_the_visitor_back_in_the_queue(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db)
    visitor, console = await new_page(), await new_page()
    await start_chat(visitor, live_server)
    await open_console(console, live_server)
    await claim(console)
    await counsellor_says(console, "Ik geef je door aan een collega.")
    await expect(visitor.locator(".msg-other .msg-body")).to_have_text(
        ["Ik geef je door aan een collega."]
    )

    await console.get_by_role("button", name="Doorgeven", exact=True).click()
    await console.get_by_role("button", name="Terug naar de wachtrij").click()
    await expect(console.locator(".console-panel")).to_have_count(0)
    await expect(console.locator(".queue-item", has_text="Sam")).to_have_count(1)

    # The visitor still sees the conversation, and waits again with a position.
    await expect(visitor.locator("#chat-requeued")).to_be_visible()
    await expect(visitor.locator("#requeue-position")).to_have_text("Je bent de volgende.")
    await expect(visitor.locator(".msg-body").last).to_contain_text(
        "Je gesprek gaat naar een andere begeleider."
    )
    await visitor.reload()  # and after a reload too
    await expect(visitor.locator("#chat-requeued")).to_be_visible()
    await expect(visitor.locator(".msg-body").first).to_have_text("An neemt deel aan het gesprek.")

    await claim(console)
    await expect(visitor.locator("#chat-requeued")).to_be_hidden()
    await expect(visitor.get_by_role("heading", name="Je chat met An")).to_be_visible()


async def test_next_chat_by_keyboard_only(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db)
    first, second, console = await new_page(), await new_page(), await new_page()
    await start_chat(first, live_server, nickname="Sam")
    await start_chat(second, live_server, nickname="Lien")
    await open_console(console, live_server, on_duty=False)
    await expect(console.locator(".queue-item")).to_have_count(2)

    # Off duty the shortcut explains itself instead of taking a chat.
    await console.keyboard.press("Alt+Shift+KeyN")
    await expect(console.locator("#queue-notice")).to_have_text(
        "Zet je status op 'In dienst' om gesprekken aan te nemen."
    )
    # The duty control by keyboard: focus the checked radio, arrow to "In dienst".
    await console.get_by_role("radio", name="Uit dienst").focus()
    await console.keyboard.press("ArrowUp")
    await console.keyboard.press("ArrowUp")
    await expect(console.locator("#duty-state")).to_have_attribute("data-duty", "on_duty")

    await console.keyboard.press("Alt+Shift+KeyN")
    await expect(console.get_by_role("heading", name="Sam", exact=True)).to_be_visible()
    await expect(console.get_by_label("Bericht aan Sam")).to_be_focused()
    await console.keyboard.press("Alt+Shift+KeyN")
    await expect(console.get_by_label("Bericht aan Lien")).to_be_focused()
    await console.keyboard.press("Alt+Shift+KeyN")  # two chats is the default maximum
    await expect(console.locator("#queue-notice")).to_have_text(
        "Je hebt al het maximum aantal gesprekken open."
    )

    # Switching between my chats, and the visible list of shortcuts.
    await console.keyboard.press("Alt+Shift+KeyJ")
    await expect(console.get_by_label("Bericht aan Sam")).to_be_focused()
    await console.keyboard.press("Alt+Shift+KeyK")
    await expect(console.get_by_label("Bericht aan Lien")).to_be_focused()
    await console.keyboard.press("Alt+Shift+KeyH")
    await expect(console.get_by_role("heading", name="Sneltoetsen")).to_be_focused()
    await expect(console.locator("#shortcut-list")).to_contain_text("Volgende gesprek")
    await console.keyboard.press("Alt+Shift+KeyE")
    await expect(console.get_by_role("button", name="Ja, beëindigen")).to_be_visible()
    await assert_accessible(console)
