"""Arranging chats for the counsellor-tools tests: a visitor, a claimed conversation and
logged-in staff clients with their CSRF header."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import service
from chat.conversations.models import AgeBand, Conversation, Status, Topic, Who
from clb.auth import service as auth_service
from clb.auth.models import StaffAccount
from clb.db import commit
from clb.services import Services
from tests.clb.auth.helpers import login
from tests.conftest import PUBLIC_URL

# Wednesday 25 November 2026, 15:00 in Brussels: the chat is open (default hours).
OPEN_NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def api(conversation_id: uuid.UUID | str, what: str) -> str:
    return f"/api/console/conversations/{conversation_id}/{what}"


async def held_chat(
    db: AsyncSession, services: Services, staff: StaffAccount, nickname: str = "Sam"
) -> tuple[Conversation, str]:
    """A conversation claimed by ``staff`` with two messages; and the visitor's token."""
    visitor, token = await auth_service.new_visitor(db)
    conversation, _ = await service.start_conversation(
        db,
        services,
        visitor.id,
        service.NewConversation(
            nickname=nickname, who=Who.leerling, topic=Topic.school, age_band=AgeBand.secundair_2
        ),
        OPEN_NOW,
    )
    # Held directly (claiming has its own tests and rules: duty, presence, capacity).
    conversation.status = Status.active.value
    conversation.counsellor_id = staff.id
    conversation.claimed_at = OPEN_NOW
    await commit(db)
    await service.visitor_send(db, services, visitor.id, conversation.id, uuid.uuid4(), "Hoi")
    await service.counsellor_send(db, services, staff, conversation.id, uuid.uuid4(), "Dag Sam")
    await commit(db)
    return conversation, token


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    """The double-submit header a console page's script sends (the page carries the token)."""
    return {"x-csrf-token": client.cookies.get("clb_csrf") or ""}


@asynccontextmanager
async def staff_client(app: FastAPI, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """A separate browser (own cookies), logged in as ``email``."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        response = await login(http, email)
        assert response.status_code == 303, response.text
        # A console page issues the CSRF cookie its scripts echo in the header.
        assert (await http.get("/console", headers={"accept": "text/html"})).status_code == 200
        yield http
