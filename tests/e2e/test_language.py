"""Choosing a language, Arabic right to left, Makkelijke taal and reading aloud."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.e2e.support import DESKTOP, MOBILE, NewPage, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Records what the page asks the browser to say (headless Chromium has no voice to hear).
RECORD_SPEECH = """
window.__spoken = [];
const realSpeak = window.speechSynthesis.speak.bind(window.speechSynthesis);
window.speechSynthesis.speak = (utterance) => {
  window.__spoken.push({ lang: utterance.lang, text: utterance.text });
  realSpeak(utterance);
};
"""


async def choose_language(page: Page, current: str, name: str) -> None:
    picker = page.get_by_role("navigation", name="Taal")
    await picker.locator("summary").click()
    await picker.get_by_role("link", name=name).click()


async def test_clicking_english_shows_the_english_site(page: Page, live_server: str) -> None:
    await page.goto(live_server + "/toolbox")
    assert await page.get_by_role("link", name="Snel weg").is_visible()

    await choose_language(page, "Nederlands", "English")
    await page.wait_for_url(live_server + "/toolbox")
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.get_by_role("link", name="Quick exit").is_visible()

    # The choice sticks for the next page.
    await page.goto(live_server + "/")
    assert await page.get_by_role("heading", level=1).inner_text() == "How can we help you?"


async def test_the_picker_is_one_tap_away_on_a_phone_and_names_each_language_in_itself(
    new_page: NewPage, live_server: str
) -> None:
    page = await new_page(viewport=MOBILE)
    await page.goto(live_server + "/")
    picker = page.get_by_role("navigation", name="Taal")
    summary = picker.locator("summary")
    box = await summary.bounding_box()
    assert box is not None and box["y"] < 200 and box["height"] >= 44  # a thumb's target
    await summary.click()
    for name in ("English", "Français", "العربية", "Türkçe", "Polski", "Українська"):
        assert await picker.get_by_role("link", name=name).is_visible()
    await assert_accessible(page)
    await picker.get_by_role("link", name="Türkçe").click()
    await page.wait_for_url(live_server + "/")
    assert await page.locator("html").get_attribute("lang") == "tr"


async def test_english_browser_gets_english_without_asking(
    new_page: NewPage, live_server: str
) -> None:
    page = await new_page(locale="en-GB")
    await page.goto(live_server + "/")
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.get_by_role("link", name="Quick exit").is_visible()
    assert await page.get_by_role("link", name="Chat with the CLB").is_visible()


async def test_dutch_browser_gets_dutch(page: Page, live_server: str) -> None:
    await page.goto(live_server + "/")
    assert await page.locator("html").get_attribute("lang") == "nl-BE"
    assert await page.get_by_role("heading", level=1).inner_text() == (
        "Waarmee kunnen we je helpen?"
    )


MIRRORED = (".brand", ".page-tools", ".quick-exit")


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360px", "1280px"])
async def test_arabic_is_the_dutch_layout_mirrored_with_numbers_intact(
    new_page: NewPage,
    live_server: str,
    viewport: dict[str, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    dutch = await new_page(viewport=viewport)
    arabic = await new_page(locale="ar", viewport=viewport)
    shots = tmp_path_factory.mktemp("rtl")
    width = viewport["width"]
    for path in ("/", "/chat", "/afspraak", "/liever-iemand-zien", "/toolbox"):
        await dutch.goto(live_server + path)
        await arabic.goto(live_server + path)
        assert await arabic.locator("html").get_attribute("dir") == "rtl"
        # Nothing sticks out sideways.
        assert await arabic.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        # Screenshot comparison by geometry: what sits at the left in Dutch sits at the
        # right in Arabic (edges within a few pixels; the words differ in length).
        for selector in MIRRORED:
            left = await dutch.locator(selector).first.bounding_box()
            right = await arabic.locator(selector).first.bounding_box()
            assert left is not None and right is not None
            # The edge it is anchored to (start or end) moves to the other side.
            starts = abs(left["x"] - (width - right["x"] - right["width"]))
            ends = abs((width - left["x"] - left["width"]) - right["x"])
            assert min(starts, ends) <= 8, (path, selector, left, right)
        # The help-line numbers stay as written.
        number = arabic.locator('a[href="tel:1813"]').first
        assert await number.evaluate("a => getComputedStyle(a).direction") == "ltr"
        name = path.strip("/") or "home"
        await arabic.screenshot(path=shots / f"ar-{name}-{width}.png", full_page=True)
        await dutch.screenshot(path=shots / f"nl-{name}-{width}.png", full_page=True)
        await assert_accessible(arabic)


async def test_makkelijke_taal_gives_simpler_words_and_pictograms(
    new_page: NewPage, live_server: str
) -> None:
    page = await new_page(viewport=MOBILE)
    await page.goto(live_server + "/afspraak")
    await page.get_by_role("link", name="Makkelijke taal").click()
    await page.wait_for_url(live_server + "/afspraak")
    assert await page.get_by_text("Zoek eerst je school.").is_visible()
    assert await page.locator(".pictogram").first.is_visible()
    await assert_accessible(page)


@pytest.mark.parametrize(("locale", "spoken"), [("nl-BE", "nl-BE"), ("fr-BE", "fr")])
async def test_read_aloud_speaks_the_main_text_in_the_page_language(
    new_page: NewPage, live_server: str, locale: str, spoken: str
) -> None:
    page = await new_page(locale=locale)
    await page.add_init_script(RECORD_SPEECH)
    await page.goto(live_server + "/")
    button = page.locator("[data-read-aloud]")
    await button.click()
    assert await button.get_attribute("aria-pressed") == "true"
    said = await page.evaluate("window.__spoken")
    assert said and {item["lang"] for item in said} == {spoken}
    heading = await page.get_by_role("heading", level=1).inner_text()
    assert said[0]["text"] == heading
    # Only the main text: not the help strip or the language picker.
    assert not any("Nederlands" in item["text"] for item in said)
    await button.click()
    assert await button.get_attribute("aria-pressed") == "false"
