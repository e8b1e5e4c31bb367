""" "Stel je vraag" in a real browser: a pupil asks on a 360 px phone and keeps the code, a
counsellor answers in the console at 1280 px, the pupil opens the code, reads the answer and
replies. axe-core finds nothing on every page; screenshots go next to the test run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import TEST_PASSWORD, make_staff
from tests.e2e.booking_support import fits_the_screen
from tests.e2e.chat_support import answer_closed
from tests.e2e.support import DESKTOP, MOBILE, NewPage, assert_accessible, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AN = "an@clb.example"
CODE = re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$")


async def checked(page: Page, shots: Path, name: str) -> None:
    await assert_accessible(page)
    await fits_the_screen(page)
    await page.screenshot(path=shots / f"{name}.png", full_page=True)


async def submit(page: Page, button: str) -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=button).click()


async def test_a_pupil_asks_a_counsellor_answers_and_the_pupil_reads_and_replies(
    new_page: NewPage, live_server: str, db: AsyncSession, tmp_path: Path
) -> None:
    await make_staff(db, email=AN)
    pupil = await new_page(viewport=MOBILE)
    await pupil.goto(f"{live_server}/vraag")
    await checked(pupil, tmp_path, "ask-360")

    await submit(pupil, "Vraag versturen")  # nothing written
    await expect(pupil.locator("#body-error")).to_have_text("Schrijf je vraag.")
    await checked(pupil, tmp_path, "ask-error-360")

    await pupil.get_by_label("Je vraag", exact=True).fill(
        "Ik twijfel tussen twee richtingen. Hoe kies ik?"
    )
    await pupil.get_by_label("Wie ben je?").select_option(label="Leerling")
    await pupil.get_by_label("Waarover gaat je vraag?").select_option(label="Studiekeuze")
    await submit(pupil, "Vraag versturen")
    await expect(pupil.get_by_role("heading", level=1)).to_have_text("Je vraag is verstuurd")
    await expect(pupil.get_by_text("Je krijgt uiterlijk")).to_be_visible()
    await checked(pupil, tmp_path, "code-360")
    code = (await pupil.locator("#pickup-code").inner_text()).strip()
    assert CODE.match(code), code

    counsellor = await new_page(viewport=DESKTOP)
    await log_in(counsellor, live_server, AN, TEST_PASSWORD)
    await counsellor.goto(f"{live_server}/console/vragen")
    await checked(counsellor, tmp_path, "console-list-1280")
    await counsellor.locator(".agenda-item-title a").first.click()
    await expect(counsellor.get_by_text("Ik twijfel tussen twee richtingen.")).to_be_visible()
    await checked(counsellor, tmp_path, "console-question-1280")
    await submit(counsellor, "Ik neem deze vraag op")
    await expect(counsellor.get_by_text("Jij neemt deze vraag op.")).to_be_visible()
    await counsellor.get_by_label("Je antwoord").fill("Kijk eens naar wat je graag doet.")
    await submit(counsellor, "Antwoord versturen")
    await expect(counsellor.get_by_text("Je antwoord is verstuurd.")).to_be_visible()
    await checked(counsellor, tmp_path, "console-answered-1280")

    later = await new_page(viewport=MOBILE)  # another visit: only the code is left
    await later.goto(f"{live_server}/vraag/ophalen")
    await later.get_by_label("Je code").fill("ABCD-EFGH")
    await submit(later, "Antwoord lezen")
    await expect(later.locator("#code-error")).to_be_visible()
    await checked(later, tmp_path, "pickup-error-360")
    await later.get_by_label("Je code").fill(code.lower().replace("-", " "))
    await submit(later, "Antwoord lezen")
    await expect(later.get_by_text("Kijk eens naar wat je graag doet.")).to_be_visible()
    await expect(later.locator("#pickup-code")).to_have_count(0)  # the code was shown once
    await checked(later, tmp_path, "thread-answered-360")
    await later.get_by_label("Je bericht").fill("Dank je! Mag ik nog iets vragen?")
    await submit(later, "Bericht versturen")
    await expect(later.get_by_text("Je bericht is verstuurd.")).to_be_visible()
    messages = later.locator(".question-msg-body")
    await expect(messages).to_have_text(
        [
            "Ik twijfel tussen twee richtingen. Hoe kies ik?",
            "Kijk eens naar wat je graag doet.",
            "Dank je! Mag ik nog iets vragen?",
        ]
    )
    await checked(later, tmp_path, "thread-replied-360")

    await counsellor.reload()
    await expect(counsellor.get_by_text("Dank je! Mag ik nog iets vragen?")).to_be_visible()


async def test_a_question_with_a_crisis_word_shows_the_help_lines_and_alerts_coordinators(
    new_page: NewPage, live_server: str, db: AsyncSession, tmp_path: Path
) -> None:
    await make_staff(db, email="coco@clb.example", roles=("coordinator",))
    dashboard = await new_page(viewport=DESKTOP)
    await log_in(dashboard, live_server, "coco@clb.example", TEST_PASSWORD)
    await dashboard.goto(f"{live_server}/console/toezicht")
    await expect(dashboard.locator("[data-updated]")).to_contain_text("Live bijgewerkt")

    pupil = await new_page(viewport=MOBILE)
    await pupil.goto(f"{live_server}/vraag")
    await pupil.get_by_label("Je vraag", exact=True).fill("Ik wil niet meer leven.")
    await submit(pupil, "Vraag versturen")
    help_box = pupil.locator(".question-help")
    await expect(help_box).to_be_visible()
    await expect(help_box.get_by_role("link", name="Zelfmoordlijn 1813")).to_be_visible()
    await checked(pupil, tmp_path, "flagged-360")

    alert = dashboard.locator("#alerts .alert-item")
    await expect(alert).to_contain_text("niet meer leven")
    link = alert.get_by_role("link", name="Vraag openen")
    await expect(link).to_have_attribute("href", re.compile(r"^/console/vragen/[0-9a-f-]{36}$"))
    async with dashboard.expect_navigation():
        await link.click()
    await expect(dashboard.get_by_text("Crisissignaal").first).to_be_visible()
    await expect(dashboard.get_by_text("Ik wil niet meer leven.")).to_be_visible()
    await checked(dashboard, tmp_path, "console-flagged-1280")
    arabic = await new_page(locale="ar", viewport=MOBILE)
    await arabic.goto(f"{live_server}/vraag?lang=ar")
    await expect(arabic.locator("html")).to_have_attribute("dir", "rtl")
    await checked(arabic, tmp_path, "ask-ar-360")


async def test_the_closed_chat_offers_a_question_first_above_the_phone_numbers(
    new_page: NewPage, live_server: str, tmp_path: Path
) -> None:
    page = await new_page(viewport=MOBILE)
    await answer_closed(page)
    await page.goto(f"{live_server}/chat")
    screen = page.locator('[data-screen="closed"]')
    await expect(screen.get_by_role("heading", name="De chat is nu gesloten")).to_be_visible()
    links = screen.get_by_role("link")
    hrefs = [await link.get_attribute("href") for link in await links.all()]
    assert hrefs[0] == "/vraag" and hrefs.index("/vraag") < hrefs.index("tel:1813")
    await checked(page, tmp_path, "chat-closed-360")
    async with page.expect_navigation():
        await screen.get_by_role("link", name="Stel je vraag").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Stel je vraag")
