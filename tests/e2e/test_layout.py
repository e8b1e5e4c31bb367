"""Mobile first: the landing page fits a small phone; screenshots for a human to look at."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.e2e.support import DESKTOP, MOBILE, NewPage

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# For a human to look at (landing-mobile.png, ...); not checked in.
SCREENSHOTS = Path(tempfile.gettempdir())


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("mobile", MOBILE), ("small", {"width": 320, "height": 568}), ("desktop", DESKTOP)],
)
async def test_landing_page_fits_the_screen(
    new_page: NewPage, live_server: str, name: str, viewport: dict[str, int]
) -> None:
    page = await new_page(viewport=viewport)
    await page.goto(live_server + "/")
    await page.screenshot(path=str(SCREENSHOTS / f"landing-{name}.png"), full_page=True)

    # No sideways scrolling, and the help lines and quick exit are in view straight away.
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    for link_name in ("Snel weg", "Awel 102", "Zelfmoordlijn 1813", "Noodgeval 112"):
        box = await page.get_by_role("link", name=link_name).bounding_box()
        assert box is not None, link_name
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], link_name
        assert box["y"] + box["height"] <= viewport["height"], link_name
    # The first way in is visible without scrolling.
    first = await page.get_by_role("link", name="Chat met het CLB").bounding_box()
    assert first is not None and first["y"] < viewport["height"]
