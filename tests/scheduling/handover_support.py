"""A real chat handed over: a conversation a counsellor held, a handover code offered in it
(chat.handover), the chat ended and its outcome recorded (chat.outcome) — all through the
chat's own service functions, committed, as the booking and request tests need it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import service
from chat.conversations.models import Conversation, Sender
from chat.counsellor_tools import handover, outcome
from clb.db import commit, utcnow
from clb.services import Services
from tests.chat.tools_support import held_chat
from tests.conftest import make_centre, make_staff

CHAT_COUNSELLOR = "chat@clb.example"
# What the visitor typed in the chat: it must never show on a CLB worker's page.
SECRET_LINE = "Thuis is er elke avond ruzie over mijn punten"
SUMMARY = "Examenstress, wil praten met iemand van het eigen CLB"
TOPIC_LABELS = ("Faalangst", "Pesten")
REFERRAL_LABELS = ("Eigen CLB",)


@dataclass(frozen=True)
class ChatHandover:
    code: str  # as the visitor got it: "K7M4-QX9P"
    conversation_id: uuid.UUID


async def handed_over_chat(db: AsyncSession, services: Services) -> ChatHandover:
    """An ended chat at the central CLBch@t team (another centre than the school's) with
    an outcome and a handover code."""
    centre = await make_centre(db, slug=f"clbchat-{uuid.uuid4().hex[:6]}")
    counsellor = await make_staff(db, email=CHAT_COUNSELLOR, centre=centre)
    conversation, _token = await held_chat(db, services, counsellor)
    conversation_id, visitor_id = conversation.id, conversation.visitor_id
    assert visitor_id is not None
    await service.visitor_send(db, services, visitor_id, conversation_id, uuid.uuid4(), SECRET_LINE)
    await commit(db)
    # The messages took their seq in SQL: forget the stale copy, as a fresh request would.
    db.expunge(conversation)
    offer = await handover.offer_handover(db, services, counsellor, conversation_id, utcnow())
    await commit(db)
    locked = await db.get(
        Conversation, conversation_id, with_for_update=True, populate_existing=True
    )
    assert locked is not None
    await service.end_conversation(
        db, services, locked, Sender.counsellor, utcnow(), by_name=counsellor.display_name
    )
    await outcome.record_outcome(
        db,
        counsellor.id,
        conversation_id,
        topics=["faalangst", "pesten"],
        referrals=["eigen_clb"],
        summary=SUMMARY,
        now=utcnow(),
    )
    await commit(db)
    return ChatHandover(offer.code, conversation_id)


@pytest.fixture
async def chat_handover(db: AsyncSession, services: Services) -> ChatHandover:
    return await handed_over_chat(db, services)
