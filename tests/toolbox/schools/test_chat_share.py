"""The chat on a school's website: the button with its "open now?" badge (a frameable page),
the chat's poster with its QR code, and both on the page for schools."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

import httpx
import pytest
import segno
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours.models import OpeningException
from chat.opening_hours.schedule import BRUSSELS, DEFAULT_WEEKLY_SCHEDULE, Period, chat_clock
from chat.opening_hours.service import replace_weekday_periods
from clb.config import Settings
from composition.app import create_app
from tests.conftest import PUBLIC_URL
from tests.toolbox.schools.test_schools import _dark_modules, assert_not_frameable
from toolbox.schools.chat_share import BUTTON_HEIGHT
from toolbox.schools.embedding import QR_ERROR_LEVEL

BUTTON = "/chat/knop"
POSTER = "/chat/affiche"


def local(day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=BRUSSELS)


@dataclass
class Clock:
    now: datetime


@pytest.fixture
def clock(app: FastAPI) -> Iterator[Clock]:
    """A movable clock, starting on Monday 1 June 2026 at 18:00 in Brussels."""
    current = Clock(local("2026-06-01", "18:00"))
    app.dependency_overrides[chat_clock] = lambda: current.now
    yield current
    app.dependency_overrides.pop(chat_clock, None)


@pytest.fixture
async def default_week(db: AsyncSession) -> None:
    """Mon, Tue, Thu 17:00–21:00 and Wed 14:00–21:00, set as a coordinator would."""
    for weekday in range(7):
        periods = DEFAULT_WEEKLY_SCHEDULE.get(weekday, ())
        await replace_weekday_periods(db, weekday, periods, actor_id=None)
    await db.commit()


def badge(page: str) -> str:
    match = re.search(r'<p class="chat-status ([^"]+)" id="chat-status">(.*?)</p>', page, re.S)
    assert match is not None, page
    text = re.sub(r"<[^>]+>", "", match.group(2)).strip()
    return f"{match.group(1)}: {html.unescape(text)}"


@pytest.mark.parametrize(
    ("day", "clock_time", "expected"),
    [
        ("2026-06-01", "18:00", "is-open: Nu open tot 21:00"),
        ("2026-06-03", "14:00", "is-open: Nu open tot 21:00"),  # Wednesday opens earlier
        ("2026-06-01", "10:00", "is-closed: Gesloten · opent vandaag om 17:00"),
        # New chats stop 15 minutes before closing: the button must not promise one.
        ("2026-06-01", "20:50", "is-closed: Gesloten · opent morgen om 17:00"),
        ("2026-06-01", "21:00", "is-closed: Gesloten · opent morgen om 17:00"),
        ("2026-06-03", "09:00", "is-closed: Gesloten · opent vandaag om 14:00"),
        ("2026-06-05", "18:00", "is-closed: Gesloten · opent maandag om 17:00"),  # Friday
    ],
)
async def test_the_badge_follows_the_opening_hours(
    client: httpx.AsyncClient,
    clock: Clock,
    default_week: None,
    day: str,
    clock_time: str,
    expected: str,
) -> None:
    clock.now = local(day, clock_time)
    response = await client.get(BUTTON)
    assert response.status_code == 200
    assert badge(response.text) == expected


async def test_the_badge_knows_closed_days_and_far_openings(
    client: httpx.AsyncClient, db: AsyncSession, clock: Clock, default_week: None
) -> None:
    db.add(OpeningException(day=date(2026, 6, 1), note="Personeelsdag"))
    await db.commit()
    assert badge((await client.get(BUTTON)).text) == "is-closed: Gesloten · opent morgen om 17:00"

    for weekday in range(7):
        await replace_weekday_periods(db, weekday, [], actor_id=None)
    db.add(OpeningException(day=date(2026, 6, 15), opens_at=time(14), closes_at=time(16)))
    await db.commit()
    far = badge((await client.get(BUTTON)).text)
    assert far == "is-closed: Gesloten · opent maandag 15 juni om 14:00"

    clock.now = local("2026-06-16", "12:00")  # nothing within the search window
    assert badge((await client.get(BUTTON)).text) == "is-closed: De chat is nu gesloten"


@pytest.fixture
async def always_open(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app as development and the browser tests run it (CLB_CHAT_ALWAYS_OPEN)."""
    application = create_app(settings.model_copy(update={"chat_always_open": True}))
    application.dependency_overrides[chat_clock] = lambda: local("2026-06-05", "23:00")
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
            yield http


async def test_always_open_says_open_without_a_closing_time(
    always_open: httpx.AsyncClient, db: AsyncSession, default_week: None
) -> None:
    # Friday night: closed by the schedule, but the chat takes new chats all the same.
    assert badge((await always_open.get(BUTTON)).text) == "is-open: Nu open"


async def test_the_button_is_a_tiny_frameable_page(
    client: httpx.AsyncClient, clock: Clock, default_week: None
) -> None:
    response = await client.get(BUTTON)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors *" in csp and "'none'" not in csp.split("frame-ancestors")[1]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "x-frame-options" not in response.headers
    assert response.headers["cache-control"] == "public, max-age=60"
    assert "set-cookie" not in response.headers
    page = response.text
    assert "<script" not in page and "site-header" not in page and "Snel weg" not in page
    assert len(page.encode()) < 3000
    assert '<html lang="nl-BE" dir="ltr">' in page
    link = re.search(r'<a class="chat-link" [^>]*>', page)
    assert link is not None
    assert f'href="{PUBLIC_URL}/chat"' in link.group(0)
    assert 'target="_blank" rel="noopener"' in link.group(0)
    assert 'aria-describedby="chat-status"' in link.group(0)
    assert "Chat met het CLB" in page and "(opent in een nieuw tabblad)" in page
    # Everything else still refuses to be framed.
    for path in (POSTER, "/chat/qr.svg", "/toolbox/delen", "/chat", "/", "/toolbox"):
        other = await client.get(path)
        assert other.status_code == 200, path
        assert_not_frameable(other)


async def test_the_button_speaks_the_language_asked_for(
    client: httpx.AsyncClient, clock: Clock, default_week: None
) -> None:
    clock.now = local("2026-06-05", "18:00")
    for lang, words in (("en", "Monday at 17:00"), ("fr", "lundi"), ("ar", 'dir="rtl"')):
        response = await client.get(f"{BUTTON}?lang={lang}")
        assert response.status_code == 200
        assert words in response.text, lang
        # The chat then opens in that language too.
        assert f'href="{PUBLIC_URL}/chat?lang={lang}"' in response.text
    english = await client.get(f"{BUTTON}?lang=en")
    assert '<html lang="en" dir="ltr">' in english.text
    assert "Chat with the CLB" in english.text


@pytest.mark.parametrize(
    "query", ["lang=xx", "lang=nederlands", "lang=%3Cb%3Enl%3C%2Fb%3E", f"lang={'x' * 500}"]
)
async def test_a_bad_language_in_the_snippet_explains_itself_in_the_frame(
    client: httpx.AsyncClient, clock: Clock, default_week: None, query: str
) -> None:
    response = await client.get(f"{BUTTON}?{query}")
    assert response.status_code == 422
    assert "x-frame-options" not in response.headers
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-cache"
    assert "Die taal kennen we niet" in response.text
    assert "nl, en, fr, ar, tr, pl, uk" in response.text
    assert "<b>" not in response.text
    # The button still leads to the chat.
    assert f'href="{PUBLIC_URL}/chat"' in response.text


async def test_odd_queries_never_break_the_button_or_the_poster(
    client: httpx.AsyncClient, clock: Clock, default_week: None
) -> None:
    for query in ("lang=", "kleur=roze&grootte=99", "lang=en&lang=xx", "%ff=%00", "a" * 2000):
        for path in (BUTTON, POSTER, "/chat/qr.svg"):
            response = await client.get(f"{path}?{query}")
            assert response.status_code < 500, (path, query)
    assert (await client.post(BUTTON)).status_code == 405


async def test_the_poster_shows_the_hours_and_a_qr_code_to_the_chat(
    client: httpx.AsyncClient, clock: Clock, default_week: None
) -> None:
    page = await client.get(POSTER)
    assert page.status_code == 200
    text = page.text
    assert "Zit je met iets?</h1>" in text and "Chat anoniem met het CLB" in text
    for line in (
        "Maandag: van 17:00 tot 21:00 uur",
        "Woensdag: van 14:00 tot 21:00 uur",
        "Donderdag: van 17:00 tot 21:00 uur",
    ):
        assert line in text
    assert "Vrijdag" not in text
    assert 'src="/chat/qr.svg"' in text and 'alt="QR-code naar de chat"' in text
    assert "127.0.0.1:8000/chat</p>" in text
    assert "/static/css/toolbox-print.css" in text

    qr = await client.get("/chat/qr.svg")
    assert qr.status_code == 200
    assert qr.headers["content-type"] == "image/svg+xml"
    assert qr.headers["cache-control"].startswith("public")
    dark, size = _dark_modules(qr.content)
    expected = segno.make(f"{PUBLIC_URL}/chat", error=QR_ERROR_LEVEL, micro=False)
    border = (size - expected.symbol_size(border=0)[0]) // 2
    assert dark == {
        (col + border, row + border)
        for row, line in enumerate(expected.matrix)
        for col, module in enumerate(line)
        if module
    }


async def test_the_poster_in_english_and_without_hours(
    client: httpx.AsyncClient, db: AsyncSession, clock: Clock
) -> None:
    for weekday in range(7):
        await replace_weekday_periods(db, weekday, [], actor_id=None)
    await replace_weekday_periods(db, 4, [Period(time(9), time(12))], actor_id=None)
    await db.commit()
    text = (await client.get(f"{POSTER}?lang=en")).text
    assert "Friday: 09:00 to 12:00" in text
    for weekday in range(7):
        await replace_weekday_periods(db, weekday, [], actor_id=None)
    await db.commit()
    empty = await client.get(POSTER)
    assert empty.status_code == 200
    assert "Wanneer is de chat open?" not in empty.text
    assert 'src="/chat/qr.svg"' in empty.text


async def test_the_page_for_schools_offers_the_chat_button_and_poster(
    client: httpx.AsyncClient, clock: Clock, default_week: None
) -> None:
    catalogue = await client.get("/toolbox")
    assert ">Voor scholen</a>" in catalogue.text
    page = await client.get("/toolbox/delen")
    assert page.status_code == 200
    text = page.text
    assert "<title>Voor scholen" in text and "<h1>Voor scholen</h1>" in text
    match = re.search(r'<textarea id="chat-code"[^>]*>(.*?)</textarea>', text, re.S)
    assert match is not None
    assert html.unescape(match.group(1)) == (
        f'<iframe src="{PUBLIC_URL}/chat/knop" title="Chat met het CLB" '
        f'width="100%" height="{BUTTON_HEIGHT}" loading="lazy" style="border: 0"></iframe>'
    )
    # The live preview, and the poster.
    assert (
        f'<iframe src="/chat/knop" title="Chat met het CLB" width="100%" height="{BUTTON_HEIGHT}"'
        in text
    )
    assert 'href="/chat/affiche"' in text and 'href="/chat/qr.svg"' in text
    # The toolbox part is still there, and the poster leads back here.
    assert 'id="embed-code"' in text
    poster = await client.get(POSTER)
    assert 'href="/toolbox/delen">Voor scholen</a>' in poster.text
