"""Every public page passes axe-core with zero violations, in every interface language."""

from __future__ import annotations

import pytest
from playwright.async_api import Page
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import TEST_PASSWORD, make_staff
from tests.e2e.statistics_support import STATISTICS_PAGES, statistics_data
from tests.e2e.supervision_support import supervision_pages
from tests.e2e.support import MOBILE, NewPage, assert_accessible, log_in, open_watched

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ENTRY_TITLES = [
    "Chat met het CLB",
    "Afspraak maken",
    "Liever iemand zien",
    "Stel je vraag",
    "Toolbox",
]
PUBLIC_PAGES = [
    "/",
    "/chat",
    "/afspraak",
    "/liever-iemand-zien",
    "/liever-iemand-zien/afdrukken",
    "/mijn-clb",
    "/mijn-clb?q=sint",
    "/vraag",
    "/vraag/ophalen",
    "/toolbox",
    "/toolbox?q=ik+word+gepest",
    "/toolbox/awel",
    "/privacy",
    "/toegankelijkheid",
    "/console/login",
]


async def test_landing_shows_the_five_ways_in_and_the_help_lines(
    page: Page, live_server: str
) -> None:
    await page.goto(live_server + "/")
    cards = page.locator("main .entry-card")
    assert await cards.count() == len(ENTRY_TITLES) == 5
    for title in ENTRY_TITLES:
        await page.get_by_role("link", name=title).wait_for()
    help_lines = page.get_by_role("region", name="Hulplijnen en snel weg")
    for number in ("102", "1813", "112"):
        link = help_lines.locator(f'a[href="tel:{number}"]')
        assert await link.is_visible()
        assert number in await link.inner_text()
    await assert_accessible(page)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize("locale", ["nl-BE", "en-GB", "fr-BE", "ar", "tr-TR", "pl-PL", "uk-UA"])
async def test_public_page_has_no_axe_violations(
    new_page: NewPage, live_server: str, path: str, locale: str
) -> None:
    page, response, errors = await open_watched(new_page, live_server + path, locale)
    assert response is not None and response.status == 200
    await assert_accessible(page)
    assert errors == []


async def test_public_pages_have_no_axe_violations_on_a_phone(
    new_page: NewPage, live_server: str
) -> None:
    page = await new_page(viewport=MOBILE)
    for path in PUBLIC_PAGES:
        await page.goto(live_server + path)
        await assert_accessible(page)


async def test_not_found_page_has_no_axe_violations(page: Page, live_server: str) -> None:
    # A browser navigation sends Accept: text/html, so this is the friendly page, not JSON.
    response = await page.goto(live_server + "/bestaat-niet")
    assert response is not None and response.status == 404
    assert "text/html" in (await response.request.all_headers())["accept"]
    assert await page.get_by_role("heading", level=1).inner_text() == (
        "Deze pagina bestaat niet (meer)."
    )
    await assert_accessible(page)


async def test_skip_link_is_first_and_moves_focus_to_the_content(
    page: Page, live_server: str
) -> None:
    await page.goto(live_server + "/")
    history_length = await page.evaluate("history.length")
    await page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Naar de inhoud")
    assert await skip_link.evaluate("link => link === document.activeElement")
    box = await skip_link.bounding_box()
    assert box is not None and box["y"] >= 0  # shown when focused
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    assert page.url == live_server + "/"
    assert await page.evaluate("history.length") == history_length


async def test_console_home_has_no_axe_violations(
    page: Page, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db)
    await log_in(page, live_server, "an@clb.example", TEST_PASSWORD)
    assert page.url == live_server + "/console"
    await assert_accessible(page)


async def test_supervision_pages_have_no_axe_violations(
    page: Page, live_server: str, db: AsyncSession
) -> None:
    paths = await supervision_pages(page, db, live_server)
    await assert_accessible(page)  # the dashboard with a live flag alert on it
    for path in paths:
        await page.goto(live_server + path)
        await assert_accessible(page)


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_statistics_page_has_no_axe_violations(
    new_page: NewPage, live_server: str, db: AsyncSession, language: str
) -> None:
    email = await statistics_data(db)
    for viewport in (None, MOBILE):
        page = await new_page(viewport=viewport)
        await log_in(page, live_server, email, TEST_PASSWORD)
        await page.context.add_cookies(
            [{"name": "clb_lang", "value": language, "url": live_server}]
        )
        for path in STATISTICS_PAGES:
            await page.goto(live_server + path)
            await page.locator("table, .field-error").first.wait_for()
            await assert_accessible(page)


async def test_chat_team_page_has_no_axe_violations(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    """The coordinator's chat team page (duty, availability, maximum chats), also with an
    error on a field."""
    coordinator = await make_staff(db, email="co@clb.example", roles=("coordinator",))
    counsellor = await make_staff(db, email="an@clb.example")
    counsellor.centre_id = coordinator.centre_id
    await db.commit()
    for viewport in (None, MOBILE):
        page = await new_page(viewport=viewport)
        await log_in(page, live_server, "co@clb.example", TEST_PASSWORD)
        await page.goto(live_server + "/console/team")
        await assert_accessible(page)
        await page.get_by_label("Maximum gesprekken tegelijk voor An").fill("12")
        await page.get_by_role("button", name="Bewaren (An)").click()
        await page.locator(".field-error").wait_for()
        await assert_accessible(page)


async def test_canned_replies_pages_have_no_axe_violations(
    page: Page, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db, roles=("counsellor", "coordinator"))
    await log_in(page, live_server, "an@clb.example", TEST_PASSWORD)
    await page.get_by_role("link", name="Snelle antwoorden").click()
    assert page.url == live_server + "/console/snelle-antwoorden"
    await assert_accessible(page)
    # Empty form: the errors stand next to their fields.
    await page.get_by_role("button", name="Toevoegen").click()
    await page.locator("#title-error").wait_for()
    await assert_accessible(page)
    await page.get_by_label("Titel").fill("Welkom")
    await page.get_by_label("Tekst").fill("Dag {naam}, fijn dat je er bent.")
    await page.get_by_label("Gedeeld met iedereen van mijn CLB").check()
    await page.get_by_role("button", name="Toevoegen").click()
    await page.get_by_text("Het snelle antwoord is toegevoegd.").wait_for()
    await assert_accessible(page)
    await page.get_by_role("link", name="Bewerken").click()
    await page.get_by_role("heading", name="Snel antwoord bewerken").wait_for()
    await assert_accessible(page)


async def test_crisis_lexicon_page_has_no_axe_violations(
    page: Page, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db, email="coord@clb.example", roles=("coordinator",))
    await log_in(page, live_server, "coord@clb.example", TEST_PASSWORD)
    for language in ("nl", "en"):
        await page.goto(f"{live_server}/taal/{language}?next=/console/triage")
        await page.locator("#term").wait_for()
        await assert_accessible(page)
        # With an error next to a field, and with the result of a test sentence.
        await page.locator("#term").fill("ab")
        await page.locator("#term").press("Enter")
        await page.locator("#term-error").wait_for()
        await assert_accessible(page)
        await page.locator("#sentence").fill("niemand zou me missen")
        await page.locator("#sentence").evaluate("field => field.form.requestSubmit()")
        await page.locator("#test-result").wait_for()
        await assert_accessible(page)
