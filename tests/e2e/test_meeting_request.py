"""A face-to-face request in a real browser: a bridge figure files it on a 320 px phone
(axe-core on every step), a counsellor schedules it in the console, and the requester's
status page shows the appointment."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import TEST_PASSWORD
from tests.e2e.booking_support import fits_the_screen
from tests.e2e.support import NewPage, assert_accessible, log_in
from tests.scheduling.support import bookable_counsellor

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SMALL = {"width": 320, "height": 640}
AN = "an@clb.example"


async def checked_step(page: Page) -> None:
    await assert_accessible(page)
    await fits_the_screen(page)


async def next_step(page: Page, button: str = "Verder") -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=button).click()


async def test_a_bridge_figure_files_a_counsellor_schedules_and_the_status_shows_it(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await bookable_counsellor(db, email=AN)
    requester = await new_page(viewport=SMALL)

    await requester.goto(f"{live_server}/liever-iemand-zien")
    await checked_step(requester)
    await requester.get_by_role("radio", name="Voor iemand anders").check()
    await next_step(requester)

    await checked_step(requester)
    await requester.get_by_role("radio", name="Brugfiguur").check()
    await requester.get_by_label("Je eigen naam").fill("Fatima El Amrani")
    await requester.get_by_label("De persoon weet van deze aanvraag en gaat akkoord.").check()
    await next_step(requester)

    await requester.get_by_label("Naam of gemeente van de school").fill("Testschool")
    await next_step(requester, "Zoeken")
    await checked_step(requester)
    await requester.get_by_role("radio", name="Testschool").check()
    await next_step(requester)

    await checked_step(requester)
    await requester.get_by_label("Voornaam van de leerling of ouder").fill("Yasmina")
    await requester.get_by_label("Telefoon of gsm").fill("0470 12 34 56")
    await requester.get_by_role("checkbox", name="Via mij").check()
    await next_step(requester)
    # "Via mij" without the filer's own phone or e-mail: refused, next to the field.
    await expect(requester.locator("#requester_phone-error")).to_be_visible()
    await checked_step(requester)
    await requester.get_by_label("Je eigen telefoonnummer").fill("0470 11 22 33")
    await next_step(requester)

    await checked_step(requester)
    await requester.get_by_role("checkbox", name="Dinsdag").check()
    await requester.get_by_role("radio", name="Op het CLB").check()
    await next_step(requester)

    await checked_step(requester)
    await requester.get_by_role("radio", name="Nee, Nederlands gaat").check()
    await next_step(requester)

    await checked_step(requester)
    await requester.get_by_label("Waarover wil je praten?").fill("Moeder wil praten over verzuim.")
    await requester.get_by_label("Ik ga akkoord").check()
    await next_step(requester, "Aanvraag versturen")

    await expect(requester.get_by_role("heading", level=1)).to_have_text("Je aanvraag is verstuurd")
    await checked_step(requester)
    reference = (await requester.locator(".reference").inner_text()).strip()
    assert re.fullmatch(r"CLB-[A-Z0-9]{4}-[A-Z0-9]{2}", reference)
    status_link = await requester.locator(".status-link a").get_attribute("href")
    assert status_link is not None and "/liever-iemand-zien/status/" in status_link

    counsellor = await new_page()
    await log_in(counsellor, live_server, AN, TEST_PASSWORD)
    await counsellor.get_by_role("link", name="Aanvragen om iemand te zien").click()
    await counsellor.get_by_role("link", name=reference).click()
    await expect(counsellor.get_by_text("Fatima El Amrani").first).to_be_visible()
    await expect(counsellor.get_by_role("link", name="0470112233")).to_be_visible()
    await next_step(counsellor, "Aan mij toewijzen")
    await expect(counsellor.get_by_text("De aanvraag is toegewezen.")).to_be_visible()
    await counsellor.get_by_role("link", name="Een afspraak in het echt inplannen").click()
    first = counsellor.locator('input[name="moment"]').first
    await counsellor.locator(f'label[for="{await first.get_attribute("id")}"]').click()
    await next_step(counsellor, "Afspraak maken")
    await expect(counsellor.get_by_text("De afspraak is gemaakt.")).to_be_visible()

    await requester.goto(status_link)
    assert requester.url == f"{live_server}/liever-iemand-zien/status"  # the token is gone
    await expect(requester.get_by_text("Er is een afspraak", exact=True)).to_be_visible()
    await expect(requester.get_by_text("Vestiging Gent")).to_be_visible()
    await checked_step(requester)
