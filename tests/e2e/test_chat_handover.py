"""From chat to face to face in a real browser: a counsellor offers a meeting in the chat,
the visitor follows the link in the chat to the request form (the code filled in) and files
a request, and the CLB worker who opens it in the console sees the chat's outcome — never
the transcript. And a booking made through the chat's booking link shows the same outcome
on the counsellor's appointment page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation
from clb.services import Services
from scheduling.appointments.models import Appointment
from tests.conftest import TEST_PASSWORD
from tests.e2e.chat_support import a_waiting_chat, hold_and_open_console
from tests.e2e.support import MOBILE, NewPage, assert_accessible, log_in
from tests.scheduling.handover_support import SECRET_LINE, SUMMARY, handed_over_chat
from tests.scheduling.support import bookable_counsellor

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AN = "an@clb.example"
VISITOR_LINE = "Ik durf het niet aan mijn ouders te zeggen"


async def next_step(page: Page, button: str = "Verder") -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=button).click()


async def test_offered_in_the_chat_filed_by_the_visitor_and_the_console_shows_the_outcome(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    # An chats, and also works for the CLB of the visitor's school.
    staff, _school = await bookable_counsellor(db, email=AN)
    visitor, console = await a_waiting_chat(new_page, live_server)
    conversation = await db.scalar(select(Conversation))
    assert conversation is not None
    await hold_and_open_console(db, conversation, staff, AN, (visitor, console), live_server)
    message_box = visitor.get_by_label("Je bericht aan An")
    await message_box.fill(VISITOR_LINE)
    await message_box.press("Enter")
    await expect(console.get_by_text(VISITOR_LINE)).to_be_visible()

    # The counsellor offers a meeting; the visitor's chat shows the code with its links.
    await console.get_by_role("button", name="Afspraak of gesprek aanbieden").click()
    await console.get_by_role("button", name="Ja, aanbieden").click()
    sent = console.get_by_text(re.compile(r"Verstuurd\. De code is"))
    await expect(sent).to_be_visible()
    found = re.search(r"\w{4}-\w{4}", await sent.inner_text())
    assert found is not None
    code = found[0]
    link = visitor.locator(".msg-system a", has_text="/liever-iemand-zien?code=")
    await expect(link).to_have_attribute("href", f"/liever-iemand-zien?code={code}")
    await expect(visitor.locator(".msg-system")).to_contain_text(code)

    # The chat ends and the counsellor records the outcome.
    await console.get_by_role("button", name="Beëindigen").click()
    await console.get_by_role("button", name="Ja, beëindigen").click()
    outcome = console.locator(".outcome-form")
    # By keyboard: with a longer chat the page footer lies over the bottom of the panel
    # for a mouse click (reported to the console's owner).
    for label in ("Faalangst", "Eigen CLB"):
        await outcome.get_by_label(label).focus()
        await console.keyboard.press("Space")
        await expect(outcome.get_by_label(label)).to_be_checked()
    await outcome.get_by_label("Korte samenvatting voor een overdracht (niet verplicht)").fill(
        SUMMARY
    )
    await outcome.get_by_role("button", name="Resultaat bewaren").focus()
    await console.keyboard.press("Enter")
    await expect(outcome.get_by_text(re.compile("Het resultaat is bewaard"))).to_be_visible()

    # The visitor follows the link (it opens in a new tab) and files a request.
    async with visitor.context.expect_page() as opened:
        await link.click()
    form = await opened.value
    await form.wait_for_load_state()
    assert form.url == f"{live_server}/liever-iemand-zien?code={code}"
    await form.get_by_role("radio", name="Voor mezelf, ik ben leerling").check()
    await next_step(form)
    await form.get_by_label("Naam of gemeente van de school").fill("Testschool")
    await next_step(form, "Zoeken")
    await form.get_by_role("radio", name=re.compile("Testschool")).check()
    await next_step(form)
    await form.get_by_label("Je voornaam").fill("Sam")
    await form.get_by_label("Telefoon of gsm").fill("0470 12 34 56")
    await next_step(form)
    await form.get_by_role("radio", name="Op het CLB").check()
    await next_step(form)
    await form.get_by_role("radio", name="Nee, Nederlands gaat").check()
    await next_step(form)
    # The last step: the code is filled in from the link.
    await expect(form.get_by_label("Code uit de chat (niet verplicht)")).to_have_value(code)
    await assert_accessible(form)
    await form.get_by_label("Ik ga akkoord").check()
    await next_step(form, "Aanvraag versturen")
    await expect(form.get_by_role("heading", level=1)).to_have_text("Je aanvraag is verstuurd")
    reference = (await form.locator(".reference").inner_text()).strip()

    # The CLB worker opens the request: the chat's outcome, not what was said.
    await console.goto(live_server + "/console")
    await console.get_by_role("link", name="Aanvragen om iemand te zien").click()
    await console.get_by_role("link", name=reference).click()
    chat = console.locator("section", has=console.get_by_role("heading", name="Uit de chat"))
    await expect(chat).to_contain_text("Faalangst")
    await expect(chat).to_contain_text("Eigen CLB")
    await expect(chat).to_contain_text(SUMMARY)
    assert VISITOR_LINE not in await console.content()
    await assert_accessible(console)


async def test_a_booking_through_the_chat_link_shows_the_outcome_on_the_appointment(
    new_page: NewPage, live_server: str, db: AsyncSession, services: Services
) -> None:
    _staff, school = await bookable_counsellor(db, email=AN)
    chat = await handed_over_chat(db, services)  # the chat team's centre has a school too
    page = await new_page(viewport=MOBILE)

    await page.goto(f"{live_server}/afspraak?code={chat.code}")
    await page.get_by_label("Naam of gemeente van je school").fill("Testschool")
    await next_step(page, "Zoeken")
    async with page.expect_navigation():
        await page.locator(f'a.school-link[href*="school={school.id}"]').click()
    await page.get_by_role("radio", name="Gesprek", exact=True).check()
    await page.get_by_role("radio", name="Op het CLB", exact=True).check()
    await next_step(page)
    first = page.locator('input[name="moment"]').first
    await page.locator(f'label[for="{await first.get_attribute("id")}"]').click()
    await next_step(page)
    code_box = page.get_by_label("Code uit de chat (niet verplicht)")
    await expect(code_box).to_have_value(chat.code)
    await assert_accessible(page)

    # A typo first: the error is next to the field and everything typed stays.
    await page.get_by_label("Je voornaam").fill("Sam")
    await page.get_by_label("E-mailadres").fill("sam@example.be")
    await page.get_by_role("checkbox", name=re.compile("Ik ga akkoord")).check()
    await code_box.fill("ZZZZ-ZZZZ")
    await next_step(page, "Afspraak maken")
    await expect(page.locator("#code-error")).to_have_text(
        "Deze code kennen we niet. Kijk ze na of laat het vak leeg."
    )
    await expect(page.get_by_label("Je voornaam")).to_have_value("Sam")
    await expect(code_box).to_have_value("ZZZZ-ZZZZ")
    await code_box.fill(chat.code.lower())
    await page.get_by_role("checkbox", name=re.compile("Ik ga akkoord")).check()
    await next_step(page, "Afspraak maken")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Je afspraak staat vast")

    await db.commit()
    appointment = await db.scalar(select(Appointment))
    assert appointment is not None
    assert appointment.handover_conversation_id == chat.conversation_id
    counsellor = await new_page()
    await log_in(counsellor, live_server, AN, TEST_PASSWORD)
    await counsellor.goto(f"{live_server}/console/agenda/afspraken/{appointment.id}")
    outcome = counsellor.locator(
        "section", has=counsellor.get_by_role("heading", name="Uit de chat")
    )
    await expect(outcome).to_contain_text("Faalangst, Pesten")
    await expect(outcome).to_contain_text(SUMMARY)
    assert SECRET_LINE not in await counsellor.content()
    await assert_accessible(counsellor)
