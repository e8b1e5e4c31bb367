"""An editor creates a tool in a real browser, publishes it, and finds it in the history."""

from __future__ import annotations

import pytest
from playwright.async_api import Page
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import TEST_PASSWORD, make_staff
from tests.e2e.support import assert_accessible, log_in
from toolbox.catalogue.models import Tool

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EDITOR = "eva@clb.example"


async def test_an_editor_publishes_a_tool(page: Page, live_server: str, db: AsyncSession) -> None:
    await make_staff(db, email=EDITOR, roles=("editor",))
    # A Content-Security-Policy violation shows up as a console error (the 422 below does too).
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await log_in(page, live_server, EDITOR, TEST_PASSWORD)

    await page.goto(live_server + "/console/toolbox")
    await page.get_by_role("heading", level=1, name="Toolbox beheren").wait_for()
    await assert_accessible(page)

    async with page.expect_navigation():
        await page.get_by_role("link", name="Nieuw hulpmiddel").click()
    await assert_accessible(page)

    # Sent half-filled first: the errors show next to the fields and the input stays.
    await page.get_by_label("Titel").fill("Rustig ademen voor een toets")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Concept aanmaken").click()
    await page.get_by_role("alert").wait_for()
    assert await page.get_by_label("Titel").input_value() == "Rustig ademen voor een toets"
    await assert_accessible(page)

    await page.get_by_label("Korte samenvatting").fill("Een ademhalingsoefening van twee minuten.")
    await page.get_by_label("Soort").select_option("oefening")
    await page.get_by_role("checkbox", name="Faalangst").check()
    await page.get_by_role("checkbox", name="Leerlingen").check()
    await page.get_by_label("Webadres").fill("https://www.example.be/ademen")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Concept aanmaken").click()
    assert "/bewerken?aangemaakt=1" in page.url
    await page.get_by_role("heading", name="Status: Concept").wait_for()
    await assert_accessible(page)

    for button, status in (
        ("Ter beoordeling voorleggen", "Ter beoordeling"),
        ("Publiceren", "Gepubliceerd"),
    ):
        async with page.expect_navigation():
            await page.get_by_role("button", name=button).click()
        await page.get_by_role("heading", name=f"Status: {status}").wait_for()

    async with page.expect_navigation():
        await page.get_by_role("link", name="Alle versies").click()
    rows = page.get_by_role("row")
    assert await rows.count() == 4  # header + created, submitted, published
    newest = await rows.nth(1).inner_text()
    assert "Gepubliceerd" in newest and "An Peeters" in newest
    await assert_accessible(page)

    tool = await db.scalar(select(Tool).where(Tool.slug == "rustig-ademen-voor-een-toets"))
    assert tool is not None and tool.status == "published"
    assert [e for e in errors if "status of 422" not in e] == []
