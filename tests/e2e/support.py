"""Shared bits for the browser tests: the Chromium to use, viewports, axe-core and log-in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, Response

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 360, "height": 640}

# new_page(locale="nl-BE", viewport=DESKTOP) -> a page in its own browser context
NewPage = Callable[..., Awaitable[Page]]


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    results = await Axe().run(page)
    return cast(list[dict[str, Any]], results.response["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} {targets}")
    return "\n".join(lines)


async def assert_accessible(page: Page) -> None:
    violations = await axe_violations(page)
    assert violations == [], f"axe-core on {page.url}:\n{describe(violations)}"


def console_errors(page: Page) -> list[str]:
    """The list that collects ``page``'s script errors and console errors from now on: a
    Content-Security-Policy violation shows up there too."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


async def open_watched(
    new_page: NewPage, url: str, locale: str
) -> tuple[Page, Response | None, list[str]]:
    """A new page in ``locale`` that opened ``url`` while collecting its errors (see
    :func:`console_errors`): (the page, the answer, the errors)."""
    page = await new_page(locale=locale)
    errors = console_errors(page)
    return page, await page.goto(url), errors


async def log_in(page: Page, base_url: str, email: str, password: str) -> None:
    await page.goto(f"{base_url}/console/login")
    await page.get_by_label("E-mailadres").fill(email)
    await page.get_by_label("Wachtwoord").fill(password)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Aanmelden").click()
