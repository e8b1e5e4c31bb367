"""Coordinators edit the opening hours; the chat page reads them from the public endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours.models import OpeningException, WeeklyOpeningPeriod
from chat.opening_hours.schedule import BRUSSELS, DEFAULT_WEEKLY_SCHEDULE, chat_clock
from chat.opening_hours.service import replace_weekday_periods
from clb.audit import AuditEvent
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_staff

PAGE = "/console/openingsuren"
API = "/api/chat/opening-hours"
HTML = {"accept": "text/html"}


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
    # Explicit rather than relying on the rows the migration seeds.
    for weekday, periods in DEFAULT_WEEKLY_SCHEDULE.items():
        await replace_weekday_periods(db, weekday, periods, actor_id=None)
    await db.commit()


@pytest.fixture
async def coordinator(
    client: httpx.AsyncClient, db: AsyncSession, clock: Clock, default_week: None
) -> httpx.AsyncClient:
    await make_staff(db, roles=("counsellor", "coordinator"))
    assert (await login(client)).status_code == 303
    return client


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], *, token: bool = True
) -> httpx.Response:
    if token:
        data = {**data, "csrf_token": await form_token(client, PAGE)}
    return await client.post(path, data=data, headers=HTML)


async def status(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(API)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def count(db: AsyncSession, model: type[OpeningException | WeeklyOpeningPeriod]) -> int:
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


# --- the coordinator page ----------------------------------------------------------------


async def test_coordinator_sees_the_week_and_the_state_of_the_chat(
    coordinator: httpx.AsyncClient,
) -> None:
    page = await coordinator.get(PAGE, headers=HTML)
    assert page.status_code == 200
    assert "Openingsuren van de chat" in page.text
    assert "Maandag: 17:00–21:00" in page.text
    assert "Woensdag: 14:00–21:00" in page.text
    assert "Vrijdag: gesloten" in page.text
    assert "De chat is nu open tot 21:00." in page.text
    assert "Nieuwe gesprekken kunnen starten tot 20:45." in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_the_page_speaks_english_too(coordinator: httpx.AsyncClient) -> None:
    coordinator.cookies.set("clb_lang", "en")
    page = await coordinator.get(PAGE, headers=HTML)
    assert "Chat opening hours" in page.text
    assert "Monday: 17:00–21:00" in page.text


async def test_closed_day_closes_the_chat_and_deleting_it_reopens(
    coordinator: httpx.AsyncClient, db: AsyncSession
) -> None:
    assert (await status(coordinator))["open"] is True

    response = await post_form(
        coordinator, f"{PAGE}/gesloten-dag", {"day": "2026-06-01", "note": "Personeelsdag"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?bewaard=1#main"

    closed = await status(coordinator)
    assert closed["open"] is False
    assert closed["intake_open"] is False
    assert closed["closes_at"] is None
    assert closed["next_opening"] == "2026-06-02T17:00:00+02:00"
    assert closed["exceptions"] == [
        {
            "date": "2026-06-01",
            "closed": True,
            "opens_at": None,
            "closes_at": None,
            "note": "Personeelsdag",
        }
    ]
    page = await coordinator.get(f"{PAGE}?bewaard=1", headers=HTML)
    assert "De openingsuren zijn bewaard." in page.text
    assert "maandag 1 juni 2026" in page.text
    assert "Personeelsdag" in page.text

    exception_id = await db.scalar(select(OpeningException.id))
    response = await post_form(coordinator, f"{PAGE}/uitzonderingen/{exception_id}/verwijderen", {})
    assert response.status_code == 303
    assert (await status(coordinator))["open"] is True
    assert await count(db, OpeningException) == 0
    actions = set((await db.scalars(select(AuditEvent.action))).all())
    assert {
        "chat.opening_hours.closed_day_added",
        "chat.opening_hours.exception_deleted",
    } <= actions


async def test_extra_opening_on_a_saturday(coordinator: httpx.AsyncClient, clock: Clock) -> None:
    clock.now = local("2026-06-06", "10:30")
    before = await status(coordinator)
    assert before["open"] is False
    assert before["next_opening"] == "2026-06-08T17:00:00+02:00"

    response = await post_form(
        coordinator,
        f"{PAGE}/extra-opening",
        {"day": "2026-06-06", "opens_at": "10:00", "closes_at": "12:00", "note": "Examens"},
    )
    assert response.status_code == 303

    after = await status(coordinator)
    assert after["open"] is True
    assert after["intake_open"] is True
    assert after["closes_at"] == "2026-06-06T12:00:00+02:00"
    assert after["intake_closes_at"] == "2026-06-06T11:45:00+02:00"
    assert after["exceptions"][0]["opens_at"] == "10:00"


async def test_setting_a_weekday(
    coordinator: httpx.AsyncClient, clock: Clock, db: AsyncSession
) -> None:
    response = await post_form(
        coordinator,
        f"{PAGE}/weekdagen/4",
        {"opens_at": ["15:00", "", ""], "closes_at": ["18:00", "", ""]},
    )
    assert response.status_code == 303
    clock.now = local("2026-06-05", "16:00")
    body = await status(coordinator)
    assert body["open"] is True
    assert {"weekday": 4, "opens_at": "15:00", "closes_at": "18:00"} in body["weekly"]

    # All fields empty: closed that weekday.
    response = await post_form(
        coordinator, f"{PAGE}/weekdagen/4", {"opens_at": ["", ""], "closes_at": ["", ""]}
    )
    assert response.status_code == 303
    assert (await status(coordinator))["open"] is False
    assert await count(db, WeeklyOpeningPeriod) == 4


async def test_public_status_shape(
    client: httpx.AsyncClient, clock: Clock, default_week: None
) -> None:
    clock.now = local("2026-06-01", "20:50")
    response = await client.get(API)
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "open": True,
        "intake_open": False,
        "closes_at": "2026-06-01T21:00:00+02:00",
        "intake_closes_at": "2026-06-01T20:45:00+02:00",
        "next_opening": "2026-06-02T17:00:00+02:00",
        "intake_stop_minutes": 15,
        "timezone": "Europe/Brussels",
        "weekly": [
            {"weekday": 0, "opens_at": "17:00", "closes_at": "21:00"},
            {"weekday": 1, "opens_at": "17:00", "closes_at": "21:00"},
            {"weekday": 2, "opens_at": "14:00", "closes_at": "21:00"},
            {"weekday": 3, "opens_at": "17:00", "closes_at": "21:00"},
        ],
        "exceptions": [],
    }


# --- who may change them -----------------------------------------------------------------


async def test_a_counsellor_without_the_coordinator_role_gets_403(
    client: httpx.AsyncClient, db: AsyncSession, clock: Clock
) -> None:
    await make_staff(db, roles=("counsellor",))
    await login(client)
    assert (await client.get(PAGE, headers=HTML)).status_code == 403
    token = await form_token(client, "/console")  # the logout form carries one
    response = await client.post(
        f"{PAGE}/gesloten-dag", data={"day": "2026-06-02", "csrf_token": token}, headers=HTML
    )
    assert response.status_code == 403
    assert await count(db, OpeningException) == 0


async def test_anonymous_people_are_sent_to_the_login(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    response = await client.get(PAGE, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login")


async def test_csrf_token_is_required(coordinator: httpx.AsyncClient, db: AsyncSession) -> None:
    missing = await post_form(
        coordinator, f"{PAGE}/gesloten-dag", {"day": "2026-06-02"}, token=False
    )
    assert missing.status_code == 403
    wrong = await post_form(
        coordinator,
        f"{PAGE}/gesloten-dag",
        {"day": "2026-06-02", "csrf_token": "x" * 43},
        token=False,
    )
    assert wrong.status_code == 403
    assert await count(db, OpeningException) == 0


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        (
            "extra-opening",
            {"day": "2026-06-06", "opens_at": "12:00", "closes_at": "10:00", "note": "Examens"},
            "Het einduur moet na het beginuur liggen.",
        ),
        (
            "extra-opening",
            {"day": "2026-06-06", "opens_at": "25:99", "closes_at": "12:00", "note": "Examens"},
            "Vul een geldig uur in, bijvoorbeeld 17:00.",
        ),
        (
            "extra-opening",
            {"day": "2026-06-06", "opens_at": "", "closes_at": "12:00", "note": ""},
            "Vul een begin- en een einduur in.",
        ),
        (
            "gesloten-dag",
            {"day": "2026-05-31", "note": "Gisteren"},
            "Deze datum ligt in het verleden.",
        ),
        (
            "gesloten-dag",
            {"day": "31/12/2026", "note": "Oudjaar"},
            "Vul een geldige datum in, bijvoorbeeld 2026-12-24.",
        ),
        ("gesloten-dag", {"day": "", "note": ""}, "Vul een datum in."),
        (
            "gesloten-dag",
            {"day": "2026-06-02", "note": "x" * 201},
            "De opmerking mag hoogstens 200 tekens lang zijn.",
        ),
    ],
)
async def test_bad_exception_input_is_explained_and_kept(
    coordinator: httpx.AsyncClient,
    db: AsyncSession,
    path: str,
    data: dict[str, str],
    message: str,
) -> None:
    response = await post_form(coordinator, f"{PAGE}/{path}", data)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    for value in data.values():
        if value:
            assert f'value="{value}"' in response.text
    assert await count(db, OpeningException) == 0


async def test_a_second_exception_on_a_closed_day_is_refused(
    coordinator: httpx.AsyncClient, db: AsyncSession
) -> None:
    await post_form(coordinator, f"{PAGE}/gesloten-dag", {"day": "2026-06-02"})
    response = await post_form(
        coordinator,
        f"{PAGE}/extra-opening",
        {"day": "2026-06-02", "opens_at": "10:00", "closes_at": "12:00"},
    )
    assert response.status_code == 422
    assert "Deze datum staat als gesloten dag ingesteld. Verwijder die eerst." in response.text
    assert await count(db, OpeningException) == 1


async def test_overlapping_weekday_periods_change_nothing(
    coordinator: httpx.AsyncClient, db: AsyncSession
) -> None:
    response = await post_form(
        coordinator,
        f"{PAGE}/weekdagen/0",
        {"opens_at": ["14:00", "16:00"], "closes_at": ["17:00", "18:00"]},
    )
    assert response.status_code == 422
    assert "De periodes op een dag mogen niet overlappen." in response.text
    assert 'value="16:00"' in response.text
    monday = (
        await db.execute(
            select(WeeklyOpeningPeriod.opens_at).where(WeeklyOpeningPeriod.weekday == 0)
        )
    ).all()
    assert monday == [(time(17, 0),)]


async def test_errors_are_translated(coordinator: httpx.AsyncClient) -> None:
    coordinator.cookies.set("clb_lang", "en")
    response = await post_form(
        coordinator,
        f"{PAGE}/extra-opening",
        {"day": "2026-06-06", "opens_at": "12:00", "closes_at": "10:00"},
    )
    assert "The end time must be after the start time." in response.text


async def test_deleting_an_unknown_exception_is_a_clear_404(
    coordinator: httpx.AsyncClient,
) -> None:
    response = await post_form(coordinator, f"{PAGE}/uitzonderingen/999999/verwijderen", {})
    assert response.status_code == 404
    assert "Deze uitzondering bestaat niet (meer)." in response.text
