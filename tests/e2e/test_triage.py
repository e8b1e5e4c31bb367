"""Crisis triage in real browsers: the coordinators' lexicon page, the counsellor's badge,
banner and "false signal" dismissal, and the help lines a visitor always sees."""

from __future__ import annotations

import json

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, Route, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.triage.models import ConversationFlag
from tests.conftest import TEST_PASSWORD, make_staff
from tests.e2e.chat_support import (
    claim,
    counsellor_says,
    fill_form,
    open_console,
    start_chat,
    visitor_says,
)
from tests.e2e.support import NewPage, describe, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def open_lexicon(page: Page, base_url: str, db: AsyncSession) -> None:
    await make_staff(db, email="coord@clb.example", roles=("counsellor", "coordinator"))
    await log_in(page, base_url, "coord@clb.example", TEST_PASSWORD)
    await page.get_by_role("link", name="Crisislexicon van de chat beheren").click()
    await expect(page.get_by_role("heading", level=1, name="Crisislexicon")).to_be_visible()


async def test_a_coordinator_adds_a_term_and_tests_a_sentence(
    page: Page, live_server: str, db: AsyncSession
) -> None:
    await open_lexicon(page, live_server, db)

    await page.get_by_label("Zin", exact=True).fill("Ik pak het klimtouw op zolder")
    await page.get_by_role("button", name="Testen").click()
    await expect(page.locator("#test-result")).to_have_text(
        "Geen crisissignaal: geen enkele term past op deze zin."
    )

    field = page.get_by_label("Woord, zinsdeel of emoji")
    await field.fill("ab")
    await page.get_by_role("button", name="Toevoegen", exact=True).click()
    await expect(page.locator("#term-error")).to_have_text(
        "Een term moet minstens drie letters lang zijn."
    )
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_have_value("ab")

    await field.fill("Klimtouw")
    await page.get_by_role("button", name="Toevoegen", exact=True).click()
    await expect(page.get_by_text("De term is toegevoegd.")).to_be_visible()
    await expect(page.locator(".triage-term", has_text="klimtouw")).to_be_visible()

    await page.get_by_label("Zin", exact=True).fill("Ik pak het KLIMTOUUUW op zolder")
    await page.get_by_role("button", name="Testen").click()
    await expect(page.locator("#test-result")).to_contain_text("Deze term past: „klimtouw”")

    await page.get_by_label("Filter", exact=True).fill("klim")
    await page.get_by_role("button", name="Filteren").click()
    await expect(page.locator(".triage-term")).to_have_count(1)
    await page.get_by_role("button", name="Verwijderen („klimtouw”)").click()
    await expect(page.get_by_text("De term is verwijderd.")).to_be_visible()
    await expect(page.locator(".triage-term", has_text="klimtouw")).to_have_count(0)


async def test_the_counsellor_sees_the_signal_and_dismisses_a_false_one(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db)
    visitor = await new_page()
    console = await new_page()
    await open_console(console, live_server)

    # Waiting with a worrying subject: marked in the queue, in words and with an icon. The
    # form no longer asks for one; a page from before the change still sends it.
    async def with_subject(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        await route.continue_(post_data=json.dumps({**body, "subject": "Niemand zou me missen"}))

    await visitor.route("**/api/chat/conversations", with_subject)
    await visitor.goto(live_server + "/chat")
    await fill_form(visitor, "Sam")
    await visitor.get_by_role("button", name="Start de chat").click()
    await expect(visitor.get_by_role("heading", name="Je staat in de wachtrij")).to_be_visible()
    item = console.locator(".queue-item", has_text="Sam")
    await expect(item.locator(".triage-badge")).to_have_text("⚠Crisissignaal")
    await claim(console)
    banner = console.locator(".triage-banner")
    await expect(banner).to_be_visible()
    await expect(banner.get_by_role("heading", name="Crisissignaal")).to_be_visible()

    # Dismissed with a reason; then a message flags it again, live.
    await banner.get_by_role("button", name="Onterecht signaal").click()
    reason = banner.get_by_label("Waarom is dit signaal onterecht?")
    await reason.fill("x")
    await banner.get_by_role("button", name="Signaal wegnemen").click()
    await expect(banner.locator(".field-error")).to_have_text(
        "Geef een reden van 3 tot 300 tekens."
    )
    await expect(reason).to_have_attribute("aria-invalid", "true")
    await reason.fill("Een songtekst die ze citeert.")
    await banner.get_by_role("button", name="Signaal wegnemen").click()
    await expect(banner).to_be_hidden()

    await visitor_says(visitor, "eerlijk? ik wil niet meer leven")
    await expect(banner).to_be_visible()
    await expect(banner.locator(".triage-text")).to_have_text(
        "Een bericht van de bezoeker bevat een term uit de crisislijst: „ik wil niet meer leven”."
    )
    # The banner and the badge (the rest of the console is tested with the console).
    for part in (".triage-banner", "#queue-list"):
        results = await Axe().run(console, context=part)
        assert results.response["violations"] == [], describe(results.response["violations"])
    rows = (await db.scalars(select(ConversationFlag).order_by(ConversationFlag.id))).all()
    assert [(r.source, r.dismissed_at is not None) for r in rows] == [
        ("subject", True),
        ("message", False),
    ]
    # The visitor's page shows nothing of it.
    await counsellor_says(console, "Ik ben er voor je.")
    await expect(visitor.get_by_text("Ik ben er voor je.")).to_be_visible()
    assert "signaal" not in (await visitor.locator("main").inner_text()).lower()


@pytest.mark.parametrize(
    "viewport",
    [
        {"width": 320, "height": 568},  # a small phone
        {"width": 568, "height": 320},  # the same phone on its side
        {"width": 360, "height": 400},  # a phone with the keyboard open
    ],
)
async def test_the_visitor_always_sees_1813_and_112_while_chatting(
    new_page: NewPage, live_server: str, db: AsyncSession, viewport: dict[str, int]
) -> None:
    await make_staff(db)
    visitor = await new_page(viewport=viewport)
    console = await new_page()
    await start_chat(visitor, live_server)
    for number in ("1813", "112"):  # while waiting
        await expect(visitor.locator(f'.topbar a[href="tel:{number}"]')).to_be_in_viewport()
    await open_console(console, live_server)
    await claim(console)
    await expect(visitor.get_by_role("heading", name="Je chat met An")).to_be_visible()
    for n in range(8):
        await counsellor_says(console, f"Bericht {n}: hoe gaat het nu met je?")
    await visitor.get_by_label("Je bericht aan An").click()
    await visitor_says(visitor, "Het gaat niet zo goed")
    await expect(visitor.get_by_text("Bericht 7: hoe gaat het nu met je?")).to_be_visible()
    for number in ("1813", "112"):
        await expect(visitor.locator(f'.topbar a[href="tel:{number}"]')).to_be_in_viewport()
