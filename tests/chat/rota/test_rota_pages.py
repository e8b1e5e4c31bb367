"""The rota pages over HTTP: who may open and change what, and bad input answered with a
clear Dutch message on the page (never a 500)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours.schedule import chat_clock
from chat.rota.models import RotaShift, RotaSwap, SwapStatus
from clb.auth.models import StaffAccount
from tests.chat.rota.support import NOW, default_week, key, person
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_centre

PAGE = "/console/rooster"
MINE = "/console/rooster/mijn"
HTML = {"accept": "text/html"}


@pytest.fixture(autouse=True)
def clock(app: FastAPI) -> Iterator[None]:
    app.dependency_overrides[chat_clock] = lambda: NOW
    yield
    app.dependency_overrides.pop(chat_clock, None)


@pytest.fixture
async def team(db: AsyncSession) -> dict[str, StaffAccount]:
    await default_week(db)
    north = await make_centre(db, "clb-noord")
    south = await make_centre(db, "clb-zuid")
    return {
        "coco": await person(db, north, "coco@clb.example", "Coco", "coordinator"),
        "an": await person(db, north, "an@clb.example", "An"),
        "bo": await person(db, north, "bo@clb.example", "Bo"),
        "zoe": await person(db, south, "zoe@clb.example", "Zoë"),
        "zed": await person(db, south, "zed@clb.example", "Zed", "coordinator"),
    }


async def as_(client: httpx.AsyncClient, email: str) -> httpx.AsyncClient:
    client.cookies.clear()
    assert (await login(client, email)).status_code == 303
    return client


async def post(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], page: str = PAGE
) -> httpx.Response:
    token = await form_token(client, page)
    return await client.post(path, data={**data, "csrf_token": token}, headers=HTML)


async def shifts(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(RotaShift)) or 0)


def text(response: httpx.Response) -> str:
    return html.unescape(response.text)


async def test_a_coordinator_plans_and_sees_uncovered_slots(
    client: httpx.AsyncClient, db: AsyncSession, team: dict[str, StaffAccount]
) -> None:
    await as_(client, "coco@clb.example")
    page = await client.get(PAGE, headers=HTML)
    assert page.status_code == 200
    assert "Chatrooster" in page.text
    assert text(page).count("Niet bezet: 0 van 1") == 4  # Mon, Tue, Wed, Thu
    assert "Zoë" not in page.text  # another centre's counsellor is not offered
    done = await post(
        client,
        f"{PAGE}/inplannen",
        {"slot": key("2026-06-01", "17:00"), "staff_id": str(team["an"].id)},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{PAGE}?bewaard=ingepland#main"
    page = await client.get(PAGE + "?bewaard=ingepland", headers=HTML)
    assert "De chatbegeleider staat op het rooster." in page.text
    assert "Bezet: 1 van 1" in text(page)
    assert text(page).count("Niet bezet: 0 van 1") == 3
    assert await shifts(db) == 1


@pytest.mark.parametrize(
    ("slot", "staff", "message"),
    [
        ("2026-05-28T15:00:00+0000", "an", "Deze beurt ligt in het verleden."),
        ("nee", "an", "Kies een beurt uit het rooster."),
        # Far-off years would overflow in another time zone.
        ("9999-12-31T23:59:59+0000", "an", "Kies een beurt uit het rooster."),
        ("0001-01-01T00:00:00+0100", "an", "Kies een beurt uit het rooster."),
        ("9999-12-31T23:59:59-2359", "an", "Kies een beurt uit het rooster."),
        ("2026-06-01T15:00:00+0000", "zoe", "Je kunt alleen mensen van je eigen CLB kiezen."),
        ("2026-06-01T15:00:00+0000", "unknown", "Deze medewerker bestaat niet."),
        ("2026-06-01T15:00:00+0000", "garbage", "Deze medewerker bestaat niet."),
        ("2026-06-01T15:00:00+0000", "bo", "Bo staat al op deze beurt."),
    ],
)
async def test_bad_planning_gets_a_clear_message(
    client: httpx.AsyncClient,
    db: AsyncSession,
    team: dict[str, StaffAccount],
    slot: str,
    staff: str,
    message: str,
) -> None:
    db.add(
        RotaShift(
            centre_id=team["bo"].centre_id,
            staff_id=team["bo"].id,
            starts_at=NOW.replace(hour=17),
            ends_at=NOW.replace(hour=21),
        )
    )
    await db.commit()
    await as_(client, "coco@clb.example")
    raw = {"unknown": "8d3c0f1e-0000-4000-8000-000000000000", "garbage": "x' OR 1=1"}
    staff_id = raw.get(staff) or str(team[staff].id)
    answer = await post(client, f"{PAGE}/inplannen", {"slot": slot, "staff_id": staff_id})
    assert answer.status_code == 422
    assert "Het rooster is niet aangepast:" in answer.text
    assert message in text(answer)
    assert await shifts(db) == 1


async def test_a_counsellor_cannot_plan(
    client: httpx.AsyncClient, db: AsyncSession, team: dict[str, StaffAccount]
) -> None:
    await as_(client, "an@clb.example")
    assert (await client.get(PAGE, headers=HTML)).status_code == 403
    token = await form_token(client, "/console")
    answer = await client.post(
        f"{PAGE}/inplannen",
        data={
            "slot": key("2026-06-01", "17:00"),
            "staff_id": str(team["an"].id),
            "csrf_token": token,
        },
        headers=HTML,
    )
    assert answer.status_code == 403
    assert await shifts(db) == 0


async def test_a_coordinator_of_centre_a_cannot_touch_centre_b(
    client: httpx.AsyncClient, db: AsyncSession, team: dict[str, StaffAccount]
) -> None:
    theirs = RotaShift(
        centre_id=team["zoe"].centre_id,
        staff_id=team["zoe"].id,
        starts_at=NOW.replace(hour=17),
        ends_at=NOW.replace(hour=21),
    )
    db.add(theirs)
    await db.commit()
    await as_(client, "coco@clb.example")
    page = await client.get(PAGE, headers=HTML)
    assert "Zoë" not in page.text  # centre B's rota is not shown either
    removed = await post(client, f"{PAGE}/beurten/{theirs.id}/schrappen", {})
    assert removed.status_code == 404
    assert "Deze beurt bestaat niet (meer)." in text(removed)
    huge = await post(client, f"{PAGE}/beurten/99999999999999/schrappen", {})
    assert huge.status_code == 404
    assert await shifts(db) == 1
    forged = await client.post(f"{PAGE}/beurten/{theirs.id}/schrappen", data={}, headers=HTML)
    assert forged.status_code == 403


async def test_an_unknown_week_says_so(
    client: httpx.AsyncClient, team: dict[str, StaffAccount]
) -> None:
    await as_(client, "coco@clb.example")
    for week in ("2030-01-07", "gisteren"):
        page = await client.get(f"{PAGE}?week={week}", headers=HTML)
        assert page.status_code == 200
        assert "Kies een week uit de lijst." in page.text


async def test_a_counsellor_asks_a_colleague_who_accepts(
    client: httpx.AsyncClient, db: AsyncSession, team: dict[str, StaffAccount]
) -> None:
    shift = RotaShift(
        centre_id=team["an"].centre_id,
        staff_id=team["an"].id,
        starts_at=NOW.replace(hour=17),
        ends_at=NOW.replace(hour=21),
    )
    db.add(shift)
    await db.commit()
    await as_(client, "an@clb.example")
    mine = await client.get(MINE, headers=HTML)
    assert "Jouw volgende chatbeurt: maandag 1 juni, 17:00–21:00." in text(mine)
    console = await client.get("/console/chat", headers=HTML)
    assert "Jouw volgende chatbeurt: maandag 1 juni, 17:00–21:00." in text(console)
    oneself = await post(
        client, f"{MINE}/{shift.id}/overnemen", {"colleague_id": str(team["an"].id)}, MINE
    )
    assert oneself.status_code == 422
    assert "Je kunt een beurt niet met jezelf ruilen." in oneself.text
    elsewhere = await post(
        client, f"{MINE}/{shift.id}/overnemen", {"colleague_id": str(team["zoe"].id)}, MINE
    )
    assert elsewhere.status_code == 422
    assert "Je kunt alleen ruilen met iemand van je eigen CLB." in elsewhere.text
    for no_id in ("9" * 30, "²", "٣"):  # not an id, though str.isdigit() says digits
        bad_counter = await post(
            client, f"{MINE}/{shift.id}/ruilen", {"counter_shift_id": no_id}, MINE
        )
        assert bad_counter.status_code == 422, no_id
        assert "Kies een beurt van een collega." in text(bad_counter)
    gone = await post(client, f"{MINE}/{shift.id}/ruilen", {"counter_shift_id": "999999"}, MINE)
    assert gone.status_code == 422 and "Deze beurt bestaat niet (meer)." in text(gone)
    asked = await post(
        client, f"{MINE}/{shift.id}/overnemen", {"colleague_id": str(team["bo"].id)}, MINE
    )
    assert asked.status_code == 303

    await as_(client, "bo@clb.example")
    page = await client.get(MINE, headers=HTML)
    assert "An vraagt of jij de beurt van maandag 1 juni, 17:00–21:00 overneemt." in text(page)
    swap_id = await db.scalar(select(RotaSwap.id))
    accepted = await post(client, f"/console/rooster/vragen/{swap_id}/aanvaarden", {}, MINE)
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"{MINE}?klaar=aanvaard#main"
    again = await post(client, f"/console/rooster/vragen/{swap_id}/aanvaarden", {}, MINE)
    assert again.status_code == 422
    assert "Op deze vraag is al geantwoord." in text(again)

    await as_(client, "an@clb.example")
    page = await client.get(MINE, headers=HTML)
    assert "Aanvaard: het rooster is aangepast" in page.text
    await db.refresh(shift)
    assert shift.staff_id == team["bo"].id
    swap = await db.get(RotaSwap, swap_id)
    assert swap is not None and swap.status == SwapStatus.accepted
