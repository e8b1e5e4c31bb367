"""An editor finds a search that found nothing, adds it to a theme's vocabulary, and sees it
in the theme's word list; at 1280 and 360 px, with axe-core finding nothing. The results
page's click beacon (toolbox-search-click.js) reaches the search log from a real browser."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
from playwright.async_api import Page
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.services import Services
from tests.conftest import TEST_PASSWORD, make_staff
from tests.e2e.support import DESKTOP, MOBILE, NewPage, assert_accessible, console_errors, log_in
from toolbox.search.models import ThemeWord
from toolbox.search_insights.counting import flush_counts, record_search
from toolbox.search_insights.models import SearchDay

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EDITOR = "eva@clb.example"
QUERY = "Gepest op de BUS"
SHOWN = "„gepest op de bus”"
WAIT_MS = 30_000


async def seed_zero_result_query(services: Services) -> None:
    for n in range(12):  # twelve visitors: one visitor's searches count once a day
        await record_search(services, QUERY, 0, visitor=f"visitor-{n}")
    await flush_counts(services)


async def open_as_editor(new_page: NewPage, live_server: str, size: dict[str, int]) -> Page:
    page = await new_page(viewport=size)
    page.set_default_timeout(WAIT_MS)
    await log_in(page, live_server, EDITOR, TEST_PASSWORD)
    return page


async def test_an_editor_adds_a_zero_result_search_to_a_theme(
    new_page: NewPage, live_server: str, db: AsyncSession, services: Services, tmp_path: Path
) -> None:
    await make_staff(db, email=EDITOR, roles=("editor",))
    await seed_zero_result_query(services)
    page = await open_as_editor(new_page, live_server, DESKTOP)
    errors = console_errors(page)

    await page.goto(f"{live_server}/console/toolbox/zoekopdrachten")
    await page.get_by_role("heading", level=1, name="Zoekopdrachten in de toolbox").wait_for()
    row = page.locator(".insight", has_text=SHOWN)
    await row.get_by_text("12 keer zonder resultaat").wait_for()
    await assert_accessible(page)

    # Sent without a theme first: the error shows next to the field, in the same row.
    await row.locator("summary").click()
    add = row.get_by_role("button", name=re.compile("^Toevoegen"))
    async with page.expect_navigation():
        await add.click()
    await row.get_by_role("alert").wait_for()
    await row.get_by_text("Kies een thema uit de lijst.").first.wait_for()
    assert await row.get_by_label("Thema").get_attribute("aria-invalid") == "true"
    await assert_accessible(page)
    await page.screenshot(path=tmp_path / "searches-error-desktop.png", full_page=True)

    await row.get_by_label("Thema").select_option("pesten")
    await row.get_by_label("Woord").fill("gepest op de bus")
    async with page.expect_navigation():
        await add.click()
    await page.get_by_role("status").get_by_text("Het woord is toegevoegd").wait_for()
    await (
        page.locator(".insight", has_text=SHOWN)
        .get_by_text("Staat al in de woordenlijst van:")
        .wait_for()
    )
    await page.screenshot(path=tmp_path / "searches-desktop.png", full_page=True)

    async with page.expect_navigation():
        await page.get_by_role("link", name="Bekijk de woordenlijsten").click()
    await page.get_by_role("heading", level=1, name="Woordenlijsten per thema").wait_for()
    pesten = page.locator("details#thema-pesten")
    await pesten.locator("summary").click()
    await pesten.locator(".vocab-word", has_text="gepest op de bus").wait_for()
    await assert_accessible(page)
    await page.screenshot(path=tmp_path / "words-desktop.png", full_page=True)

    word = await db.scalar(select(ThemeWord).where(ThemeWord.normalised == "gepest op de bus"))
    assert word is not None and (word.theme, word.language, word.source) == (
        "pesten",
        "nl",
        "editor",
    )
    assert [e for e in errors if "status of 422" not in e] == []


async def test_the_pages_fit_a_phone(
    new_page: NewPage, live_server: str, db: AsyncSession, services: Services, tmp_path: Path
) -> None:
    await make_staff(db, email=EDITOR, roles=("editor",))
    await seed_zero_result_query(services)
    page = await open_as_editor(new_page, live_server, MOBILE)
    errors = console_errors(page)

    await page.goto(f"{live_server}/console/toolbox/zoekopdrachten")
    row = page.locator(".insight", has_text=SHOWN)
    await row.locator("summary").click()
    await row.get_by_label("Woord").wait_for()
    await assert_accessible(page)
    assert await page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    await page.screenshot(path=tmp_path / "searches-phone.png", full_page=True)

    await page.goto(f"{live_server}/console/toolbox/woorden?thema=pesten#thema-pesten")
    await page.locator("details#thema-pesten[open] .vocab-word").first.wait_for()
    await assert_accessible(page)
    assert await page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    await page.screenshot(path=tmp_path / "words-phone.png", full_page=True)
    await page.locator("details#thema-pesten").screenshot(path=tmp_path / "pesten-phone.png")
    assert errors == []


async def test_a_click_on_a_result_reaches_the_search_log(
    page: Page, live_server: str, db: AsyncSession, services: Services
) -> None:
    errors = console_errors(page)
    await page.goto(f"{live_server}/toegankelijkheid")
    sent = await page.evaluate(
        """async () => {
            const beacon = await import("/static/js/toolbox-search-click.js");
            return beacon.sendSearchClick("Bang voor examen", "awel");
        }"""
    )
    assert sent is True
    deadline = time.monotonic() + WAIT_MS / 1000
    clicks = None
    while clicks is None and time.monotonic() < deadline:
        await flush_counts(services)
        db.expire_all()
        clicks = await db.scalar(
            select(SearchDay.clicks).where(SearchDay.query == "bang voor examen")
        )
        if clicks is None:
            await asyncio.sleep(0.2)  # the beacon is on its way: look again
    assert clicks == 1
    assert errors == []
