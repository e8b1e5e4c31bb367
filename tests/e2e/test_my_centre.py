"""Mijn CLB in a real browser: a pupil on a small phone finds their CLB through a misspelled
school name, and the page passes axe-core at 360 and 1280 px, in Dutch and in Arabic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from clb.org.list_files import read_centres, read_schools
from clb.org.school_lists import import_lists
from development.demo import SAMPLE_CENTRES, SAMPLE_SCHOOLS
from tests.e2e.support import DESKTOP, MOBILE, NewPage, assert_accessible, console_errors

pytestmark = [pytest.mark.browser]

WAIT = 30_000  # ms: the machine is slow and busy
CHAT_STATE = re.compile(r"^(Nu open( tot \d\d:\d\d)?|Gesloten · opent .+|De chat is nu gesloten)$")
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
async def lists(db: AsyncSession) -> None:
    await import_lists(
        db,
        read_centres(SAMPLE_CENTRES.read_bytes(), SAMPLE_CENTRES.name),
        read_schools(SAMPLE_SCHOOLS.read_bytes(), SAMPLE_SCHOOLS.name),
    )
    await db.commit()


async def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"my-centre-{name}.png"), full_page=True)


async def assert_fits(page: Page) -> None:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


async def test_a_pupil_finds_their_clb_by_a_misspelled_school_name_on_a_phone(
    new_page: NewPage, live_server: str, lists: None
) -> None:
    page = await new_page(viewport=MOBILE)
    errors = console_errors(page)
    await page.goto(f"{live_server}/mijn-clb")
    await assert_accessible(page)
    field = page.get_by_label("Naam, gemeente of postcode van je school")
    await field.fill("basisscool")  # "basisschool" without its h
    await page.get_by_role("button", name="Zoeken").click()
    results = page.get_by_role("heading", name=re.compile(r"scholen gevonden"))
    await expect(results).to_be_visible(timeout=WAIT)
    await expect(results).to_be_focused()
    await assert_accessible(page)
    await assert_fits(page)
    await shoot(page, "results-360")

    await page.get_by_role("link", name=re.compile("Basisschool Het Molentje")).click()
    centre = page.get_by_role("heading", name="Jouw CLB: CLB Leiestreek")
    await expect(centre).to_be_visible(timeout=WAIT)
    await expect(page.get_by_text("Jouw school: Basisschool Het Molentje")).to_be_visible()
    await expect(page.get_by_role("link", name="09 300 20 20")).to_have_attribute(
        "href", "tel:093002020"
    )
    await expect(page.get_by_text("Kortrijksesteenweg 210")).to_be_visible()
    chat = page.get_by_role("link", name=re.compile("^Chat met het CLB"))
    await expect(chat).to_have_attribute("href", "/chat")
    await expect(chat.locator(".chat-state")).to_have_text(CHAT_STATE)
    book = page.get_by_role("link", name=re.compile("^Afspraak maken"))
    await expect(book).to_have_attribute("href", re.compile(r"^/afspraak/waarover\?school="))
    meet = page.get_by_role("link", name=re.compile("^Liever iemand zien"))
    await expect(meet).to_have_attribute("href", re.compile(r"^/liever-iemand-zien\?school="))
    ask = page.get_by_role("link", name=re.compile("^Stel je vraag"))
    await expect(ask).to_have_attribute("href", "/vraag")
    await assert_accessible(page)
    await assert_fits(page)
    await shoot(page, "centre-360")

    # The booking button opens the booking's second step with the school chosen.
    await book.click()
    await expect(page.get_by_text("Basisschool Het Molentje").first).to_be_visible(timeout=WAIT)
    assert "/afspraak/waarover" in page.url
    assert [e for e in errors if "404" not in e and "422" not in e] == []


async def test_the_landing_page_search_and_the_page_at_1280_px(
    new_page: NewPage, live_server: str, lists: None
) -> None:
    page = await new_page(viewport=DESKTOP)
    await page.goto(f"{live_server}/")
    await assert_accessible(page)
    await shoot(page, "landing-1280")
    search = page.get_by_role("search", name="Vind je CLB")
    await search.get_by_label("Naam, gemeente of postcode van je school").fill("3920")
    await search.get_by_role("button", name="Zoeken").click()
    await expect(page.get_by_role("heading", name="Jouw CLB: CLB Kempen-Limburg")).to_be_visible(
        timeout=WAIT
    )
    await assert_accessible(page)
    await shoot(page, "centre-1280")
    # Nothing typed: the message next to the field, and the error summary takes the focus.
    await page.get_by_label("Naam, gemeente of postcode van je school").fill("")
    await page.get_by_role("button", name="Zoeken").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Typ de naam, de gemeente of de postcode", timeout=WAIT)
    await assert_accessible(page)
    await page.goto(f"{live_server}/mijn-clb?q=xyzzy+qwerty")
    await expect(page.get_by_role("heading", name="Geen school gevonden")).to_be_visible()
    await assert_accessible(page)
    await shoot(page, "none-1280")


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360", "1280"])
async def test_the_page_in_arabic_reads_right_to_left(
    new_page: NewPage, live_server: str, lists: None, viewport: dict[str, int]
) -> None:
    page = await new_page(viewport=viewport)
    await page.goto(f"{live_server}/mijn-clb?q=leiedal&lang=ar")
    assert await page.locator("html").get_attribute("dir") == "rtl"
    assert await page.locator("html").get_attribute("lang") == "ar"
    await expect(page.locator("#centre-title")).to_contain_text("CLB Leiestreek", timeout=WAIT)
    await assert_accessible(page)
    await assert_fits(page)
    # Right to left: the card's coloured edge is on the right.
    card = await page.locator(".centre-card").evaluate(
        "el => getComputedStyle(el).borderRightWidth"
    )
    assert card == "6px"
    await shoot(page, f"arabic-{viewport['width']}")
