"""/mijn-clb: find your CLB by your school (name, town, postcode, a typo), see how to reach it,
and a clear answer to every bad input. The demo's sample lists are the data, imported."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours.schedule import BRUSSELS, DEFAULT_WEEKLY_SCHEDULE, chat_clock
from chat.opening_hours.service import replace_weekday_periods
from clb.org.list_files import read_centres, read_schools
from clb.org.models import School
from clb.org.school_lists import import_lists
from development.demo import SAMPLE_CENTRES, SAMPLE_SCHOOLS

PAGE = "/mijn-clb"


def local(day: str, clock: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=BRUSSELS)


@pytest.fixture
async def lists(db: AsyncSession) -> None:
    """The demo's sample lists, imported as the demo does; the usual chat week."""
    await import_lists(
        db,
        read_centres(SAMPLE_CENTRES.read_bytes(), SAMPLE_CENTRES.name),
        read_schools(SAMPLE_SCHOOLS.read_bytes(), SAMPLE_SCHOOLS.name),
    )
    for weekday in range(7):
        periods = DEFAULT_WEEKLY_SCHEDULE.get(weekday, ())
        await replace_weekday_periods(db, weekday, periods, actor_id=None)
    await db.commit()


@pytest.fixture
def monday_evening(app: FastAPI) -> Iterator[None]:
    """Monday 1 June 2026, 18:00 in Brussels: the chat is open until 21:00."""
    app.dependency_overrides[chat_clock] = lambda: local("2026-06-01", "18:00")
    yield
    app.dependency_overrides.pop(chat_clock, None)


def text_of(page: str) -> str:
    """The page's visible words, on one line."""
    main = page.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def centre_heading(page: str) -> str | None:
    match = re.search(r'<h2 id="centre-title"[^>]*>(.*?)</h2>', page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else None


async def school_id(db: AsyncSession, name: str) -> uuid.UUID:
    found = await db.scalar(select(School.id).where(School.name == name))
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("query", "school", "centre"),
    [
        ("Sint-Barbaracollege Demo", "Sint-Barbaracollege Demo", "CLB Leiestreek"),
        ("sint-barbra", "Sint-Barbaracollege Demo", "CLB Leiestreek"),  # a typo
        ("waregem", "Sint-Pauluscollege Demo", "CLB Leiestreek"),  # the town
        ("3920", "Technicum Noord-Limburg", "CLB Kempen-Limburg"),  # the postcode
        ("  heilig hart  ", "Heilig-Hartcollege Demo", "CLB Kempen-Limburg"),
    ],
)
async def test_one_school_found_shows_its_centre_and_how_to_reach_it(
    client: httpx.AsyncClient,
    db: AsyncSession,
    lists: None,
    monday_evening: None,
    query: str,
    school: str,
    centre: str,
) -> None:
    page = await client.get(PAGE, params={"q": query})
    assert page.status_code == 200
    assert centre_heading(page.text) == f"Jouw CLB: {centre}"
    words = text_of(page.text)
    assert f"Jouw school: {school}" in words
    chosen = await school_id(db, school)
    for link in (
        f'href="/afspraak/waarover?school={chosen}"',
        f'href="/liever-iemand-zien?school={chosen}"',
        'href="/chat"',
        'href="/vraag"',
    ):
        assert link in page.text
    assert "Nu open tot 21:00" in words
    assert "Wat doet een CLB?" in words


async def test_the_centre_shows_its_addresses_phone_mail_site_and_hours(
    client: httpx.AsyncClient, db: AsyncSession, lists: None
) -> None:
    school = await school_id(db, "Technisch Instituut Dijle")
    page = await client.get(PAGE, params={"school": str(school)})
    assert page.status_code == 200
    words = text_of(page.text)
    assert centre_heading(page.text) == "Jouw CLB: CLB Scheldeland"
    assert 'href="tel:032001010">03 200 10 10</a>' in page.text
    assert 'href="mailto:onthaal@scheldeland.clb.example"' in page.text
    assert 'href="https://scheldeland.clb.example"' in page.text
    assert "Adressen Hoofdzetel Antwerpen Lange Lozanastraat 42 2018 Antwerpen" in words
    assert "Antenne Mechelen Hanswijkstraat 7 2800 Mechelen" in words
    assert "Openingsuren: Ma–vr 8.30–12.00 en 13.00–16.30" in words


async def test_several_schools_found_are_a_list_to_pick_from(
    client: httpx.AsyncClient, db: AsyncSession, lists: None
) -> None:
    page = await client.get(PAGE, params={"q": "genk"})
    assert page.status_code == 200
    assert centre_heading(page.text) is None
    assert "2 scholen gevonden" in text_of(page.text)
    for name in ("Basisschool De Zonnebloem", "Basisschool De Kleine Wereld"):
        assert f'href="/mijn-clb?school={await school_id(db, name)}"' in page.text
    picked = await client.get(PAGE, params={"school": str(await school_id(db, name))})
    assert centre_heading(picked.text) == "Jouw CLB: CLB Kempen-Limburg"


async def test_no_school_found_says_so_and_offers_the_chat_and_phone_lines(
    client: httpx.AsyncClient, lists: None, monday_evening: None
) -> None:
    page = await client.get(PAGE, params={"q": "xyzzy qwerty"})
    assert page.status_code == 200
    words = text_of(page.text)
    assert "Geen school gevonden" in words
    assert "Vind je je school niet?" in words
    assert "Chat met het CLB Nu open tot 21:00" in words
    for line in ('href="tel:102"', 'href="tel:1813"', 'href="tel:112"'):
        assert line in page.text.split('<main id="main"', 1)[1]


async def test_a_closed_chat_says_when_it_opens(
    app: FastAPI, client: httpx.AsyncClient, db: AsyncSession, lists: None
) -> None:
    app.dependency_overrides[chat_clock] = lambda: local("2026-06-05", "22:00")  # Friday
    try:
        school = await school_id(db, "Kempisch Atheneum")
        page = await client.get(PAGE, params={"school": str(school)})
    finally:
        app.dependency_overrides.pop(chat_clock, None)
    words = text_of(page.text)
    assert "Gesloten · opent maandag om 17:00" in words
    assert "chat-state-open" not in page.text


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"q": ""}, 422, "Typ de naam, de gemeente of de postcode van je school."),
        ({"q": "   "}, 422, "Typ de naam, de gemeente of de postcode van je school."),
        ({"q": "a"}, 422, "Typ minstens 2 letters."),
        ({"q": "a" * 250}, 422, "Dat is te lang. Typ hoogstens 100 tekens."),
        ({"school": "niet-een-id"}, 404, "Deze school kennen we niet. Zoek je school opnieuw."),
        ({"school": str(uuid.uuid4())}, 404, "Deze school kennen we niet."),
    ],
)
async def test_bad_input_gets_a_clear_message_next_to_the_field(
    client: httpx.AsyncClient, lists: None, params: dict[str, str], status: int, message: str
) -> None:
    page = await client.get(PAGE, params=params)
    assert page.status_code == status
    assert 'class="error-summary"' in page.text
    field_error = re.search(r'<p class="field-error" id="q-error">(.*?)</p>', page.text)
    assert field_error is not None and message in html.unescape(field_error.group(1))
    assert 'aria-invalid="true"' in page.text
    assert centre_heading(page.text) is None


async def test_the_page_without_a_search_and_in_arabic(
    client: httpx.AsyncClient, db: AsyncSession, lists: None
) -> None:
    empty = await client.get(PAGE)
    assert empty.status_code == 200
    assert 'name="q"' in empty.text and "Wat doet een CLB?" in text_of(empty.text)
    school = await school_id(db, "Leiedal Campus")
    arabic = await client.get(PAGE, params={"school": str(school), "lang": "ar"})
    assert arabic.status_code == 200
    assert 'dir="rtl"' in arabic.text
    # Names from the lists stay Dutch, and say so to screen readers.
    assert '<span lang="nl" dir="auto">CLB Leiestreek</span>' in arabic.text


async def test_the_landing_page_leads_to_the_search(client: httpx.AsyncClient) -> None:
    landing = await client.get("/")
    assert '<form method="get" action="/mijn-clb" role="search"' in landing.text
    assert "Vind je CLB" in landing.text
