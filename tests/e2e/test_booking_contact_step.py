"""The booking's contact step on a phone: the "voor iemand anders" fields only show when
that is chosen (CSS only, no script), so the page stays short for someone who books for
themselves; and the school step finds a school from a typo."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import ServerEnv
from tests.e2e.booking_support import BookingServer, fits_the_screen, running_booking_server
from tests.e2e.support import DESKTOP, MOBILE, NewPage, assert_accessible
from tests.scheduling.support import bookable_counsellor

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Where to keep screenshots for a person to look at (not kept unless asked for).
SHOTS = os.environ.get("CLB_TEST_SCREENSHOTS", "")


@pytest.fixture(scope="module")
def booking_server(
    session_server_env: ServerEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BookingServer]:
    data_dir = tmp_path_factory.mktemp("booking-contact-server")
    with running_booking_server(session_server_env, data_dir) as server:
        yield server


async def height(page: Page) -> int:
    return int(await page.evaluate("document.documentElement.scrollHeight"))


async def shoot(page: Page, name: str) -> None:
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def to_contact_step(page: Page, base: str, school_name: str) -> None:
    await page.goto(f"{base}/afspraak")
    await page.get_by_label("Naam of gemeente van je school").fill(school_name)
    await page.get_by_role("button", name="Zoeken").click()
    await page.locator(".school-link").first.click()
    await page.locator('input[name="soort"]').first.check()
    await page.locator('input[name="hoe"]').first.check()
    await page.locator(".booking-next").click()
    await page.locator('input[name="moment"]').first.check()
    await page.locator(".booking-next").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Je gegevens")


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360", "1280"])
async def test_the_on_behalf_fields_show_only_for_someone_else(
    new_page: NewPage, booking_server: BookingServer, db: AsyncSession, viewport: dict[str, int]
) -> None:
    _staff, school = await bookable_counsellor(db)
    page = await new_page(viewport=viewport)
    await to_contact_step(page, booking_server.base_url, school.name)
    booker = page.get_by_label("Je eigen naam")

    # "Voor mezelf" is chosen first: the on-behalf fields are not there.
    await expect(page.get_by_role("radio", name="Voor mezelf (of mijn kind)")).to_be_checked()
    for_self = await height(page)
    await shoot(page, f"contact-self-{viewport['width']}")
    print(f"contact step at {viewport['width']} px, for oneself: {for_self} px")  # noqa: T201
    await expect(booker).to_be_hidden()
    await assert_accessible(page)
    await fits_the_screen(page)

    await page.get_by_role("radio", name="Voor iemand anders").check()
    await expect(booker).to_be_visible()
    for_other = await height(page)
    await shoot(page, f"contact-other-{viewport['width']}")
    await assert_accessible(page)
    print(f"contact step at {viewport['width']} px, for someone else: {for_other} px")  # noqa: T201
    if viewport == MOBILE:
        assert for_self < for_other - 500, (for_self, for_other)

    # Booking for someone else without their details: the errors show next to the fields,
    # and the fields stay open (the choice is kept).
    await page.locator("#first_name").fill("Sara")
    await page.locator("#email").fill("sara@example.be")
    await page.locator("#consent").check()
    await page.locator(".booking-next").click()
    await expect(page.locator("#booker_name-error")).to_be_visible()
    await expect(booker).to_be_visible()
    await assert_accessible(page)

    # Back to "voor mezelf": the fields hide again and the booking goes through.
    await page.get_by_role("radio", name="Voor mezelf (of mijn kind)").check()
    await expect(booker).to_be_hidden()
    await page.locator("#consent").check()
    await page.locator(".booking-next").click()
    await page.wait_for_url("**/afspraak/beheer/bevestiging")


async def test_a_typo_still_finds_the_school(
    new_page: NewPage, booking_server: BookingServer, db: AsyncSession
) -> None:
    _staff, school = await bookable_counsellor(db)
    page = await new_page(viewport=MOBILE)
    # The test school is called "Testschool Gent"-like; a letter left out still finds it.
    await page.goto(f"{booking_server.base_url}/afspraak")
    await page.get_by_label("Naam of gemeente van je school").fill("testschol")
    await page.get_by_role("button", name="Zoeken").click()
    await expect(page.locator(".school-link").first).to_contain_text(school.name)
    await shoot(page, "school-typo-360")
    await assert_accessible(page)
    await fits_the_screen(page)


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360", "1280"])
async def test_request_form_verder_takes_the_typed_school_and_via_me_asks_the_filers_contact(
    new_page: NewPage, live_server: str, db: AsyncSession, viewport: dict[str, int]
) -> None:
    await bookable_counsellor(db)
    page = await new_page(viewport=viewport)
    await page.goto(f"{live_server}/liever-iemand-zien")
    await page.get_by_role("radio", name="Voor iemand anders").check()
    await page.get_by_role("button", name="Verder").click()
    await page.get_by_role("radio", name="Brugfiguur").check()
    await page.get_by_label("Je eigen naam").fill("Fatima El Amrani")
    await page.get_by_label("De persoon weet van deze aanvraag en gaat akkoord.").check()
    await page.get_by_role("button", name="Verder").click()

    # The school's name typed, "Verder" at once: no error, the one school is taken.
    await page.get_by_label("Naam of gemeente van de school").fill("testschool")
    await page.get_by_role("button", name="Verder").click()
    await expect(page.get_by_label("Voornaam van de leerling of ouder")).to_be_visible()

    own_phone = page.get_by_label("Je eigen telefoonnummer")
    await expect(own_phone).to_be_hidden()
    await page.get_by_role("checkbox", name="Via mij").check()
    await expect(own_phone).to_be_visible()
    await shoot(page, f"request-via-me-{viewport['width']}")
    await assert_accessible(page)
    await fits_the_screen(page)
