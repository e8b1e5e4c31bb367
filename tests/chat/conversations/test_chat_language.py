"""The chat in another language: the form stores it, "volgende gesprek" offers it first to a
counsellor who speaks it (for a while, and only while one is available), the team page
records who speaks what, and the console and supervision show it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chat.console import repository as staff_repository
from chat.console.models import ChatStaff, Duty
from chat.conversations import service
from chat.conversations.models import Conversation
from chat.errors import QueueEmpty
from chat.opening_hours.schedule import chat_clock
from chat.realtime import presence
from chat.realtime.sockets import conversation_summary
from clb.audit import AuditEvent
from clb.auth.models import StaffAccount
from clb.db import utcnow
from clb.services import Services
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_centre, make_staff

OPEN_NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # a Wednesday afternoon: open
FORM = {"nickname": "Ayşe", "who": "ouder", "topic": "school", "consent": True}
HTML = {"accept": "text/html"}


@pytest.fixture
def clock(app: FastAPI) -> Iterator[None]:
    app.dependency_overrides[chat_clock] = lambda: OPEN_NOW
    yield
    app.dependency_overrides.pop(chat_clock, None)


async def start(client: httpx.AsyncClient, **change: object) -> httpx.Response:
    token = (await client.post("/api/visitors")).json()["token"]
    return await client.post(
        "/api/chat/conversations",
        json={**FORM, **change},
        headers={"authorization": f"Bearer {token}"},
    )


async def test_the_form_asks_the_language_and_stores_it(
    client: httpx.AsyncClient, clock: None, db: AsyncSession
) -> None:
    page = await client.get("/chat", headers=HTML)
    assert "In welke taal wil je chatten?" in page.text
    assert '<option value="tr" lang="tr" dir="auto">Türkçe</option>' in page.text
    assert '<option value="nl" lang="nl" dir="auto" selected>Nederlands</option>' in page.text
    # One question about what it is about: the topic, no free text any more.
    assert "Waarover gaat het?" in page.text and 'id="subject"' not in page.text

    turkish = await start(client, language="tr")
    assert turkish.status_code == 201
    dutch = await start(client)  # an older page without the field: Dutch
    stored = await db.scalars(select(Conversation.language).order_by(Conversation.created_at))
    assert sorted(stored.all()) == ["nl", "tr"]
    assert dutch.status_code == 201


@pytest.mark.parametrize("language", ["xx", "nl-BE", "TR", "", 7])
async def test_an_unknown_language_is_refused_clearly(
    client: httpx.AsyncClient, clock: None, db: AsyncSession, language: object
) -> None:
    response = await start(client, language=language)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    fields = [str(f["field"]).split(".")[-1] for f in error["details"]["fields"]]
    assert fields == ["language"]
    assert await db.scalar(select(func.count()).select_from(Conversation)) == 0


async def waiting_chat(
    db: AsyncSession, services: Services, language: str, *, waited: float = 0
) -> uuid.UUID:
    """A waiting chat whose visitor is there, created ``waited`` seconds ago."""
    created = utcnow() - timedelta(seconds=waited)
    conversation = Conversation(
        nickname=f"Bezoeker {language}",
        who="ouder",
        topic="school",
        language=language,
        time_limit_minutes=45,
        created_at=created,
        joined_at=created,
    )
    db.add(conversation)
    await db.commit()
    live = presence.live_key(services.keys)
    await services.redis.zadd(live, {str(conversation.id): time.time() + 60})
    return conversation.id


async def on_duty(
    db: AsyncSession,
    services: Services,
    email: str,
    languages: list[str],
    *,
    console_open: bool = True,
) -> StaffAccount:
    staff = await make_staff(db, email=email)
    await staff_repository.set_duty(db, staff.id, Duty.on_duty, utcnow())
    await staff_repository.set_languages(db, staff.id, languages, utcnow())
    await db.commit()
    if console_open:
        await presence.heard_from_counsellor(services.redis, services.keys, staff.id)
    return staff


async def next_for(db: AsyncSession, services: Services, staff: StaffAccount) -> uuid.UUID:
    conversation = await service.claim_next_conversation(db, services, staff, utcnow())
    await db.commit()
    return conversation.id


async def test_a_turkish_chat_goes_first_to_a_counsellor_who_speaks_turkish(
    db: AsyncSession, services: Services
) -> None:
    turkish = await waiting_chat(db, services, "tr", waited=60)
    dutch = await waiting_chat(db, services, "nl", waited=30)
    only_dutch = await on_duty(db, services, "an@clb.example", [])
    speaker = await on_duty(db, services, "bo@clb.example", ["tr"])

    # The non-speaker passes over the older Turkish chat while the speaker is available.
    assert await next_for(db, services, only_dutch) == dutch
    with pytest.raises(QueueEmpty):
        await service.claim_next_conversation(db, services, only_dutch, utcnow())
    await db.commit()  # nothing was taken
    assert await next_for(db, services, speaker) == turkish


async def test_a_speaker_gets_a_chat_in_their_language_before_older_dutch_ones(
    db: AsyncSession, services: Services
) -> None:
    await waiting_chat(db, services, "nl", waited=90)
    turkish = await waiting_chat(db, services, "tr", waited=10)
    speaker = await on_duty(db, services, "bo@clb.example", ["ar", "tr"])
    assert await next_for(db, services, speaker) == turkish


async def test_after_the_wait_anyone_takes_it(db: AsyncSession, services: Services) -> None:
    wait = services.settings.chat_language_wait_seconds
    assert wait == 120
    turkish = await waiting_chat(db, services, "tr", waited=wait - 5)
    only_dutch = await on_duty(db, services, "an@clb.example", [])
    await on_duty(db, services, "bo@clb.example", ["tr"])
    with pytest.raises(QueueEmpty):
        await service.claim_next_conversation(db, services, only_dutch, utcnow())
    await db.commit()  # nothing was taken

    # Waited longer than the setting (backdated, no sleeping): anyone may take it now.
    await db.execute(
        update(Conversation)
        .where(Conversation.id == turkish)
        .values(created_at=utcnow() - timedelta(seconds=wait + 1))
    )
    await db.commit()
    assert await next_for(db, services, only_dutch) == turkish


@pytest.mark.parametrize("speaker", ["none", "console_closed", "pause", "at_capacity"])
async def test_when_no_available_counsellor_speaks_it_anyone_takes_it_at_once(
    db: AsyncSession, services: Services, speaker: str
) -> None:
    turkish = await waiting_chat(db, services, "tr")
    only_dutch = await on_duty(db, services, "an@clb.example", ["fr"])
    if speaker != "none":
        other = await on_duty(
            db, services, "bo@clb.example", ["tr"], console_open=speaker != "console_closed"
        )
        if speaker == "pause":
            await staff_repository.set_duty(db, other.id, Duty.pause, utcnow())
        if speaker == "at_capacity":
            await staff_repository.set_max_chats(db, other.id, 1, utcnow())
            held = await waiting_chat(db, services, "nl")
            await service.claim_conversation(db, services, other, held, utcnow())
        await db.commit()
    assert await next_for(db, services, only_dutch) == turkish


async def test_clicking_a_chat_in_another_language_stays_allowed(
    db: AsyncSession, services: Services
) -> None:
    turkish = await waiting_chat(db, services, "tr")
    only_dutch = await on_duty(db, services, "an@clb.example", [])
    await on_duty(db, services, "bo@clb.example", ["tr"])
    claimed = await service.claim_conversation(db, services, only_dutch, turkish, utcnow())
    assert claimed.id == turkish and claimed.counsellor_id == only_dutch.id
    assert conversation_summary(claimed, "An")["language"] == "tr"


async def test_the_team_page_saves_the_languages_a_counsellor_speaks(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    centre = await make_centre(db, slug="clb-gent")
    await make_staff(db, email="co@clb.example", roles=("coordinator",), centre=centre)
    mine = await make_staff(db, email="an@clb.example", centre=centre)
    elsewhere = await make_staff(db, email="bo@clb.example")
    assert (await login(client, "co@clb.example")).status_code == 303
    page = await client.get("/console/team", headers=HTML)
    assert f'id="talen-{mine.id}-tr"' in page.text and "Turks" in page.text
    assert f'id="talen-{mine.id}-nl"' not in page.text  # Dutch is implied

    token = await form_token(client, "/console/team")
    action = f"/console/team/{mine.id}/talen"
    saved = await client.post(
        action, data={"languages": ["tr", "ar", "tr"], "csrf_token": token}, headers=HTML
    )
    assert saved.status_code == 303
    row = await db.get(ChatStaff, mine.id)
    assert row is not None and row.languages == ["ar", "tr"] and row.duty == "off_duty"
    audit = await db.scalar(select(AuditEvent).where(AuditEvent.action == "chat.languages_set"))
    assert audit is not None and audit.object_id == str(mine.id)
    shown = await client.get("/console/team?bewaard=talen", headers=HTML)
    assert "De talen zijn bewaard." in shown.text
    assert f'id="talen-{mine.id}-tr" checked' in shown.text

    bad = await client.post(
        action, data={"languages": ["tr", "xx"], "csrf_token": token}, headers=HTML
    )
    assert bad.status_code == 422 and "Kies de talen uit de lijst." in bad.text
    await db.refresh(row)
    assert row.languages == ["ar", "tr"]
    cleared = await client.post(action, data={"csrf_token": token}, headers=HTML)
    assert cleared.status_code == 303
    await db.refresh(row)
    assert row.languages == []
    other = await client.post(
        f"/console/team/{elsewhere.id}/talen", data={"languages": "tr", "csrf_token": token}
    )
    assert other.status_code == 404
    forged = await client.post(action, data={"languages": "tr"}, headers=HTML)
    assert forged.status_code == 403
