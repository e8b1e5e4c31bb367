"""For schools, in a real browser: the widget works inside another site's page (and the
rest of the platform does not), and the share, poster and widget pages pass axe-core."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from playwright.async_api import Page, Route, expect

from tests.e2e.support import NewPage, assert_accessible, open_watched

pytestmark = [pytest.mark.browser]

# A school's website: HTTPS like any real one. Chromium's Local Network Access checks would
# stop a public page from framing the test server on 127.0.0.1 (a public platform is not
# affected); the permission stands in for that, and can only be granted to a secure origin.
SCHOOL = "https://school.example"
FILTERS = "thema=faalangst&doelgroep=leerling"


def school_page(*frames: str) -> str:
    """A school's own page (another origin) with the given iframe snippets."""
    return (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        "<title>Zorg op school</title></head><body><main><h1>Zorg op onze school</h1>"
        + "".join(frames)
        + "</main></body></html>"
    )


async def serve_school_page(page: Page, body: str) -> None:
    async def fulfil(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)

    await page.route(f"{SCHOOL}/**", fulfil)
    await page.context.grant_permissions(["local-network-access"], origin=SCHOOL)


async def test_the_widget_shows_inside_a_page_from_another_origin(
    new_page: NewPage, live_server: str
) -> None:
    # The snippet exactly as the share page hands it out.
    async with httpx.AsyncClient(base_url=live_server) as http:
        share = await http.get(f"/toolbox/delen?{FILTERS}")
        expected = (await http.get(f"/api/toolbox/tools?{FILTERS}&per_pagina=10")).json()
    match = re.search(r'<textarea id="embed-code"[^>]*>(.*?)</textarea>', share.text, re.S)
    assert match is not None
    snippet = html.unescape(match.group(1))
    assert f'src="{live_server}/toolbox/embed?' in snippet
    titles = [item["title"] for item in expected["items"]]
    assert titles

    page = await new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await serve_school_page(page, school_page(snippet))
    await page.goto(f"{SCHOOL}/zorg")
    assert page.url.startswith(SCHOOL)
    widget = page.frame_locator('iframe[title="Hulp en tips van het CLB"]')
    await expect(widget.get_by_role("heading", level=1)).to_have_text("Hulp en tips van het CLB")
    for title in titles:
        link = widget.get_by_role("link", name=title, exact=True)
        await expect(link).to_be_visible()
        await expect(link).to_have_attribute("target", "_blank")
    more = widget.get_by_role("link", name=re.compile("Meer op het CLB-platform"))
    await expect(more).to_have_attribute("href", f"{live_server}/toolbox?{FILTERS}")
    await expect(widget.locator('a[href="tel:1813"]')).to_be_visible()
    # A link opens the platform in a new tab; the school's page stays where it was.
    async with page.context.expect_page() as opened:
        await widget.get_by_role("link", name=titles[0], exact=True).click()
    new_tab = await opened.value
    await new_tab.wait_for_load_state()
    assert new_tab.url.startswith(f"{live_server}/toolbox/")
    assert page.url == f"{SCHOOL}/zorg"
    assert errors == []


async def test_the_rest_of_the_platform_refuses_to_be_framed(
    new_page: NewPage, live_server: str
) -> None:
    page = await new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await serve_school_page(
        page,
        school_page(
            f'<iframe id="widget" title="widget" src="{live_server}/toolbox/embed"></iframe>',
            f'<iframe id="catalogue" title="catalogue" src="{live_server}/toolbox"></iframe>',
        ),
    )
    await page.goto(f"{SCHOOL}/zorg", wait_until="load")
    await expect(page.frame_locator("#widget").get_by_role("heading", level=1)).to_be_visible()
    # The catalogue keeps frame-ancestors 'none': the browser shows nothing of ours there.
    catalogue = await (await page.locator("#catalogue").element_handle()).content_frame()
    assert catalogue is not None
    assert await catalogue.locator("a.brand").count() == 0
    assert not catalogue.url.startswith(live_server)
    assert any("frame-ancestors" in message for message in console), console


@pytest.mark.parametrize(
    "path",
    [
        f"/toolbox/delen?{FILTERS}",
        f"/toolbox/affiche?{FILTERS}&niveau=secundair-1",
        f"/toolbox/embed?{FILTERS}",
        "/toolbox/embed?thema=astrologie",
    ],
)
@pytest.mark.parametrize("locale", ["nl-BE", "en-GB"])
async def test_school_pages_have_no_axe_violations(
    new_page: NewPage, live_server: str, path: str, locale: str
) -> None:
    page, response, errors = await open_watched(new_page, live_server + path, locale)
    assert response is not None and response.status in {200, 422}
    await assert_accessible(page)
    # A 422 is logged by the browser as a failed resource; nothing else may be.
    assert [e for e in errors if "422" not in e] == []


async def test_the_poster_prints_only_the_poster(page: Page, live_server: str) -> None:
    await page.goto(f"{live_server}/toolbox/affiche?{FILTERS}&titel=Zit+je+ergens+mee%3F")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Zit je ergens mee?")
    qr = page.get_by_role("img", name="QR-code naar deze lijst")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")
    await page.emulate_media(media="print")
    for chrome in (".topbar", ".site-header", ".site-footer", ".poster-instructions"):
        await expect(page.locator(chrome)).to_be_hidden()
    await expect(qr).to_be_visible()
    await expect(page.locator(".poster").get_by_text("Zelfmoordlijn")).to_be_visible()
