"""The toolbox search on a phone (360 px) and a desktop, in a real browser: words as pupils
type them, a typo, and a crisis search. Screenshots go next to the test run."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page

from tests.e2e.booking_support import fits_the_screen
from tests.e2e.support import DESKTOP, MOBILE, NewPage, assert_accessible

pytestmark = pytest.mark.browser

TIMEOUT = 30_000


async def search(page: Page, query: str) -> None:
    await page.get_by_label("Waar zoek je iets over?").fill(query)
    await page.get_by_role("button", name="Zoeken").click()
    await page.wait_for_url("**q=**", timeout=TIMEOUT)
    await page.locator("#results-title").wait_for(timeout=TIMEOUT)


@pytest.mark.parametrize(("name", "viewport"), [("phone", MOBILE), ("desktop", DESKTOP)])
async def test_a_pupil_who_is_bullied_finds_help(
    new_page: NewPage, live_server: str, tmp_path: Path, name: str, viewport: dict[str, int]
) -> None:
    page = await new_page(viewport=viewport)
    await page.goto(f"{live_server}/toolbox", timeout=TIMEOUT)
    await search(page, "ik word gepest")
    titles = await page.locator(".tool-card h3 a").all_inner_texts()
    # Help lines first, then the tools about bullying.
    assert titles[0].startswith("Awel") and titles[1].startswith("Awel"), titles
    assert "Vlaams Netwerk Kies Kleur tegen Pesten" in titles[:5]
    assert await page.get_by_test_id("safety-net").count() == 0
    await fits_the_screen(page)
    await assert_accessible(page)
    await page.screenshot(path=tmp_path / f"search-bullied-{name}.png", full_page=True)


async def test_a_typo_offers_what_was_meant(
    new_page: NewPage, live_server: str, tmp_path: Path
) -> None:
    page = await new_page(viewport=MOBILE)
    await page.goto(f"{live_server}/toolbox", timeout=TIMEOUT)
    await search(page, "depresie")
    note = page.get_by_test_id("search-note")
    await note.wait_for(timeout=TIMEOUT)
    assert (await note.inner_text()).startswith("Bedoelde je")
    await assert_accessible(page)
    await page.screenshot(path=tmp_path / "search-typo-phone.png", full_page=True)
    await note.get_by_role("link").click()
    await page.wait_for_url("**q=depressie**", timeout=TIMEOUT)
    assert await page.get_by_test_id("search-note").count() == 0
    assert await page.locator(".tool-card").count() > 0


@pytest.mark.parametrize(("name", "viewport"), [("phone", MOBILE), ("desktop", DESKTOP)])
async def test_a_crisis_search_shows_the_help_box_first(
    new_page: NewPage, live_server: str, tmp_path: Path, name: str, viewport: dict[str, int]
) -> None:
    page = await new_page(viewport=viewport)
    await page.goto(f"{live_server}/toolbox", timeout=TIMEOUT)
    await search(page, "ik wil dood")
    box = page.get_by_test_id("safety-net")
    await box.wait_for(timeout=TIMEOUT)
    assert await box.get_by_role("link", name="Bel 1813").get_attribute("href") == "tel:1813"
    assert await box.get_by_role("link", name="Bel 102").get_attribute("href") == "tel:102"
    assert await box.get_by_role("link", name="Bel 112").get_attribute("href") == "tel:112"
    first = await page.locator(".tool-card h3 a").first.inner_text()
    assert first.startswith("Zelfmoordlijn 1813")
    # The box sits above the results.
    box_place = await box.bounding_box()
    results_place = await page.locator("#results-title").bounding_box()
    assert box_place is not None and results_place is not None
    assert box_place["y"] < results_place["y"]
    await fits_the_screen(page)
    await assert_accessible(page)
    await page.screenshot(path=tmp_path / f"search-crisis-{name}.png", full_page=True)
