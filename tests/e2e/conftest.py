"""Browser tests: the real app (``live_server``) driven by Debian's Chromium through Playwright.

Playwright's own browser download does not work everywhere, so the system Chromium is used.
Without it the tests skip on a developer's machine, but fail in CI (``CI=true``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, DESKTOP, NewPage


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        reason = "Chromium not found: apt-get install chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def new_page(browser: Browser) -> AsyncIterator[NewPage]:
    """Open a page in a fresh browser context (own cookies and storage), Dutch by default."""
    contexts: list[BrowserContext] = []

    async def open_page(locale: str = "nl-BE", viewport: dict[str, int] | None = None) -> Page:
        size = viewport or DESKTOP
        context = await browser.new_context(
            locale=locale, viewport={"width": size["width"], "height": size["height"]}
        )
        contexts.append(context)
        return await context.new_page()

    yield open_page
    for context in contexts:
        await context.close()


@pytest.fixture
async def page(new_page: NewPage) -> Page:
    return await new_page()
