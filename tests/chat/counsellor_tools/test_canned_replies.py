"""Canned replies: personal for everyone, shared per centre by coordinators, never visible
across centres or between colleagues' personal lists."""

from __future__ import annotations

import re
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.counsellor_tools.models import CannedReply
from tests.chat.tools_support import staff_client
from tests.clb.auth.helpers import form_token
from tests.conftest import make_centre, make_staff

PAGE = "/console/snelle-antwoorden"
API = "/api/console/canned-replies"
HTML = {"accept": "text/html"}


async def arrange(db: AsyncSession) -> None:
    centre = await make_centre(db, "clb-a")
    await make_staff(db, email="an@clb.example", centre=centre)
    await make_staff(db, email="bo@clb.example", centre=centre)
    await make_staff(db, email="co@clb.example", roles=("counsellor", "coordinator"), centre=centre)
    other = await make_centre(db, "clb-b")
    await make_staff(db, email="di@clb.example", roles=("counsellor", "coordinator"), centre=other)


async def post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    token = await form_token(client, PAGE)
    return await client.post(path, data={**data, "csrf_token": token}, headers=HTML)


async def titles(client: httpx.AsyncClient) -> list[tuple[str, bool]]:
    replies = (await client.get(API)).json()["replies"]
    return [(r["title"], r["shared"]) for r in replies]


async def reply_id(db: AsyncSession, title: str) -> uuid.UUID:
    found = await db.scalar(select(CannedReply.id).where(CannedReply.title == title))
    assert found is not None
    return found


async def test_personal_and_shared_replies_are_seen_by_the_right_people(
    app: FastAPI, db: AsyncSession
) -> None:
    await arrange(db)
    async with staff_client(app, "an@clb.example") as an:
        mine = await post(an, PAGE, {"title": "Welkom", "body": "Dag {naam}!"})
        assert mine.status_code == 303 and mine.headers["location"].startswith(PAGE)
        # A counsellor cannot make a shared one (not even by editing the form).
        shared = await post(an, PAGE, {"title": "Team", "body": "x", "scope": "shared"})
        assert shared.status_code == 403
    async with staff_client(app, "co@clb.example") as co:
        ok = await post(co, PAGE, {"title": "Afsluiten", "body": "Bedankt", "scope": "shared"})
        assert ok.status_code == 303
        assert await titles(co) == [("Afsluiten", True)]
    async with staff_client(app, "di@clb.example") as di:
        await post(di, PAGE, {"title": "Elders", "body": "Ander CLB", "scope": "shared"})
        assert await titles(di) == [("Elders", True)]
    async with staff_client(app, "an@clb.example") as an:
        assert await titles(an) == [("Afsluiten", True), ("Welkom", False)]
        page = await an.get(PAGE, headers=HTML)
        assert "Dag {naam}!" in page.text and "Ander CLB" not in page.text
    async with staff_client(app, "bo@clb.example") as bo:
        assert await titles(bo) == [("Afsluiten", True)]


async def test_who_may_change_what(app: FastAPI, db: AsyncSession) -> None:
    await arrange(db)
    async with staff_client(app, "an@clb.example") as an:
        await post(an, PAGE, {"title": "Van An", "body": "Persoonlijk"})
    async with staff_client(app, "co@clb.example") as co:
        await post(co, PAGE, {"title": "Gedeeld", "body": "Voor iedereen", "scope": "shared"})
    own, shared = await reply_id(db, "Van An"), await reply_id(db, "Gedeeld")

    async with staff_client(app, "bo@clb.example") as bo:
        # Another's personal reply does not exist for a colleague; a shared one is read-only.
        assert (await bo.get(f"{PAGE}/{own}", headers=HTML)).status_code == 404
        assert (await post(bo, f"{PAGE}/{own}/verwijderen", {})).status_code == 404
        edit = await post(bo, f"{PAGE}/{shared}", {"title": "Gekaapt", "body": "x"})
        assert edit.status_code == 403
    async with staff_client(app, "di@clb.example") as di:
        # Another centre's coordinator cannot touch (or learn of) this centre's replies.
        assert (await post(di, f"{PAGE}/{shared}/verwijderen", {})).status_code == 404
    async with staff_client(app, "an@clb.example") as an:
        saved = await post(an, f"{PAGE}/{own}", {"title": "Van An", "body": "Nieuw"})
        assert saved.status_code == 303
        assert (await post(an, f"{PAGE}/{own}/verwijderen", {})).status_code == 303
    async with staff_client(app, "co@clb.example") as co:
        changed = await post(co, f"{PAGE}/{shared}", {"title": "Gedeeld", "body": "Aangepast"})
        assert changed.status_code == 303
    rows = (await db.scalars(select(CannedReply).execution_options(populate_existing=True))).all()
    assert [(r.title, r.body) for r in rows] == [("Gedeeld", "Aangepast")]


async def test_errors_show_next_to_their_field_and_need_csrf(
    app: FastAPI, db: AsyncSession
) -> None:
    await arrange(db)
    async with staff_client(app, "an@clb.example") as an:
        bad = await post(an, PAGE, {"title": "  ", "body": "x" * 2001})
        assert bad.status_code == 422
        assert re.search(r'id="title-error">Geef het antwoord een korte titel\.<', bad.text)
        assert re.search(r'id="body-error">De tekst is te lang: hoogstens 2000 tekens\.<', bad.text)
        assert 'aria-invalid="true"' in bad.text
        no_token = await an.post(PAGE, data={"title": "T", "body": "B"}, headers=HTML)
        assert no_token.status_code == 403
        assert await titles(an) == []


async def test_visitors_and_strangers_have_no_access(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await arrange(db)
    assert (await client.get(API)).status_code == 401
    assert (await client.get(PAGE, headers=HTML)).status_code == 303  # to the login page
