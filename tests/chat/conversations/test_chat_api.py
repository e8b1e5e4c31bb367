"""Starting, rating and downloading conversations over HTTP; jobs; the queue estimate."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.console import repository as staff_repository
from chat.console.models import Duty
from chat.conversations import service
from chat.conversations.models import Conversation, Message, Sender, Status
from chat.opening_hours.schedule import chat_clock
from chat.realtime.queue import estimate_wait
from clb import jobs
from clb.auth.models import StaffAccount
from clb.db import commit, utcnow
from clb.jobs import OutboxJob
from clb.services import Services
from tests.conftest import make_staff

# Wednesday 25 November 2026, 15:00 in Brussels (14:00 UTC): the chat is open.
OPEN_NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
# Friday 27 November 2026, 10:00 in Brussels: closed.
CLOSED_NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
FORM = {"nickname": "Sam", "who": "leerling", "topic": "school", "consent": True}


@pytest.fixture
def clock(app: FastAPI) -> Iterator[list[datetime]]:
    now = [OPEN_NOW]
    app.dependency_overrides[chat_clock] = lambda: now[0]
    yield now
    app.dependency_overrides.pop(chat_clock, None)


async def visitor_headers(client: httpx.AsyncClient) -> dict[str, str]:
    token = (await client.post("/api/visitors")).json()["token"]
    return {"authorization": f"Bearer {token}"}


async def test_joining_the_queue_and_joining_again_gives_the_same_conversation(
    client: httpx.AsyncClient, clock: list[datetime]
) -> None:
    headers = await visitor_headers(client)
    first = await client.post("/api/chat/conversations", json=FORM, headers=headers)
    assert first.status_code == 201
    assert first.json()["status"] == "waiting"
    again = await client.post("/api/chat/conversations", json=FORM, headers=headers)
    assert again.status_code == 200
    assert again.json()["conversation_id"] == first.json()["conversation_id"]


async def test_closed_chat_says_when_it_opens(
    client: httpx.AsyncClient, clock: list[datetime]
) -> None:
    clock[0] = CLOSED_NOW
    response = await client.post(
        "/api/chat/conversations", json=FORM, headers=await visitor_headers(client)
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "chat_closed" and error["message"] == "De chat is nu gesloten."
    # Next opening: Monday 30 November 17:00 Brussels = 16:00 UTC.
    opening = datetime.fromisoformat(error["details"]["next_opening"])
    assert opening == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "change",
    [
        {"consent": False},
        {"nickname": ""},
        {"nickname": "x" * 41},
        {"who": "directeur"},
        {"topic": "iets"},
        {"subject": "x" * 121},
        {"email": "sam@example.com"},  # nothing personal beyond the form
    ],
)
async def test_bad_pre_chat_forms_are_refused_clearly(
    client: httpx.AsyncClient, clock: list[datetime], db: AsyncSession, change: dict[str, object]
) -> None:
    response = await client.post(
        "/api/chat/conversations", json={**FORM, **change}, headers=await visitor_headers(client)
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"
    assert await db.scalar(select(func.count()).select_from(Conversation)) == 0


async def test_starting_needs_a_visitor_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/chat/conversations", json=FORM)
    assert response.status_code == 401


async def chat_with_messages(
    client: httpx.AsyncClient, services: Services, db: AsyncSession
) -> tuple[dict[str, str], uuid.UUID, StaffAccount]:
    headers = await visitor_headers(client)
    started = await client.post("/api/chat/conversations", json=FORM, headers=headers)
    conversation_id = uuid.UUID(started.json()["conversation_id"])
    staff = await make_staff(db)
    await staff_repository.set_duty(db, staff.id, Duty.on_duty, utcnow())
    conversation = await service.claim_conversation(db, services, staff, conversation_id, utcnow())
    visitor_id = conversation.visitor_id
    assert visitor_id is not None
    await service.visitor_send(db, services, visitor_id, conversation_id, uuid.uuid4(), "Hoi")
    await service.counsellor_send(db, services, staff, conversation_id, uuid.uuid4(), "Dag Sam")
    await commit(db)
    return headers, conversation_id, staff


async def test_transcript_download_and_rating_after_the_end(
    client: httpx.AsyncClient, clock: list[datetime], services: Services, db: AsyncSession
) -> None:
    headers, conversation_id, staff = await chat_with_messages(client, services, db)
    early = await client.post(
        f"/api/chat/conversations/{conversation_id}/rating", json={"stars": 5}, headers=headers
    )
    assert early.status_code == 409

    conversation = await db.get(Conversation, conversation_id, with_for_update=True)
    assert conversation is not None
    await service.end_conversation(
        db, services, conversation, Sender.counsellor, utcnow(), by_name="An"
    )
    await commit(db)

    text = await client.get(
        f"/api/chat/conversations/{conversation_id}/transcript", headers=headers
    )
    assert text.status_code == 200
    assert "attachment" in text.headers["content-disposition"]
    lines = text.text.splitlines()
    assert any(line.endswith("Sam: Hoi") for line in lines)
    assert any(line.endswith("An: Dag Sam") for line in lines)
    assert any("An heeft het gesprek beëindigd." in line for line in lines)

    rated = await client.post(
        f"/api/chat/conversations/{conversation_id}/rating",
        json={"stars": 4, "comment": "Dankjewel"},
        headers=headers,
    )
    assert rated.status_code == 204
    await db.refresh(conversation)
    assert conversation.rating == 4 and conversation.rating_comment == "Dankjewel"

    stranger = await visitor_headers(client)
    refused = await client.get(
        f"/api/chat/conversations/{conversation_id}/transcript", headers=stranger
    )
    assert refused.status_code == 403


async def test_time_notices_are_planned_moved_and_cancelled(
    client: httpx.AsyncClient, clock: list[datetime], services: Services, db: AsyncSession
) -> None:
    _, conversation_id, staff = await chat_with_messages(client, services, db)
    notices = await jobs.pending_jobs(db, "chat.time_notice", conversation_id=str(conversation_id))
    await commit(db)
    assert sorted(job.payload["notice"] for job in notices) == ["time_soon", "time_up"]
    soon = next(job for job in notices if job.payload["notice"] == "time_soon")
    planned = soon.run_at

    await service.extend_conversation(db, services, staff, conversation_id, 15)
    await commit(db)
    await db.refresh(soon)
    assert soon.run_at == planned + timedelta(minutes=15) and soon.version == 2

    # The notice itself: a system message, once, even when delivered twice.
    assert await jobs.run_outbox_job(services, soon.id, soon.version) == "done"
    assert await jobs.run_outbox_job(services, soon.id, soon.version) == "skipped"
    bodies = (
        await db.scalars(
            select(Message.body).where(
                Message.conversation_id == conversation_id, Message.sender == "system"
            )
        )
    ).all()
    assert sum('"time_soon"' in body for body in bodies) == 1

    conversation = await db.get(Conversation, conversation_id, with_for_update=True)
    assert conversation is not None
    await service.end_conversation(
        db, services, conversation, Sender.counsellor, utcnow(), by_name="An"
    )
    await commit(db)
    left = await jobs.pending_jobs(db, "chat.time_notice", conversation_id=str(conversation_id))
    assert left == []


async def test_retention_purge_removes_the_transcript_and_keeps_the_statistics(
    client: httpx.AsyncClient, clock: list[datetime], services: Services, db: AsyncSession
) -> None:
    headers, conversation_id, _ = await chat_with_messages(client, services, db)
    conversation = await db.get(Conversation, conversation_id, with_for_update=True)
    assert conversation is not None
    ended_at = utcnow() - timedelta(days=services.settings.chat_retention_days + 1)
    await service.end_conversation(
        db, services, conversation, Sender.visitor, ended_at, by_name="Sam"
    )
    await commit(db)
    purge = await db.scalar(select(OutboxJob).where(OutboxJob.kind == "chat.purge_transcript"))
    assert purge is not None and purge.run_at < utcnow()  # aged: due now

    # The sweep finds it (as after a lost enqueue), the worker runs it.
    assert await jobs.sweep_outbox(services) == 1
    assert await jobs.run_outbox_job(services, purge.id, purge.version) == "done"

    await db.refresh(conversation)
    assert (
        await db.scalar(select(func.count()).where(Message.conversation_id == conversation_id)) == 0
    )
    assert conversation.purged_at is not None
    assert conversation.nickname == "" and conversation.subject is None
    assert conversation.topic == "school" and conversation.who == "leerling"
    assert conversation.status == Status.ended and conversation.claimed_at is not None
    gone = await client.get(
        f"/api/chat/conversations/{conversation_id}/transcript", headers=headers
    )
    assert gone.status_code == 403


@pytest.mark.parametrize(
    ("position", "counsellors", "busy", "expected"),
    [
        (1, 0, 0, None),  # nobody on duty: no number
        (1, 2, 1, (5, False)),  # a free slot: soon
        (3, 1, 2, (20, False)),  # ⌊(3−1)/2⌋+1 = 2 × 10 min
        (9, 1, 2, (30, True)),  # beyond the cap: "more than 30 minutes"
    ],
)
def test_wait_estimate_is_rounded_up_and_capped(
    position: int, counsellors: int, busy: int, expected: tuple[int, bool] | None
) -> None:
    estimate = estimate_wait(position, counsellors, capacity=2, busy=busy, handling_minutes=10)
    assert (None if estimate is None else (estimate.minutes, estimate.more_than)) == expected
