"""Retention of handover codes: ``retention_handover_days`` after its chat ended, a code no
longer opens the chat's outcome; the outcome's codes and summary stay (the transcript purge
takes the summary)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation
from chat.counsellor_tools.models import ConversationOutcome
from chat.counsellor_tools.tasks import HANDOVER_CODE_EXPIRY, expire_handover_codes
from clb.db import utcnow
from clb.services import Services
from composition.tasks import PERIODIC_JOBS


async def chat_with_code(
    db: AsyncSession, ended: datetime | None, digest: str, status: str = "ended"
) -> uuid.UUID:
    created = (ended or utcnow()) - timedelta(minutes=40)
    conversation = Conversation(
        nickname="Sam",
        who="leerling",
        topic="school",
        time_limit_minutes=45,
        status=status,
        created_at=created,
        joined_at=created,
        claimed_at=created,
        ended_at=ended,
    )
    db.add(conversation)
    await db.flush()
    db.add(
        ConversationOutcome(
            conversation_id=conversation.id,
            topics=["pesten"],
            referrals=[],
            summary="Kort",
            handover_code_hash=digest,
            recorded_at=created,
        )
    )
    await db.commit()
    return conversation.id


async def test_codes_of_chats_that_ended_before_the_period_stop_working(
    services: Services, db: AsyncSession
) -> None:
    days = services.settings.retention_handover_days
    old = await chat_with_code(db, utcnow() - timedelta(days=days, hours=1), "a" * 64)
    inside = await chat_with_code(db, utcnow() - timedelta(days=days - 1), "b" * 64)
    running = await chat_with_code(db, None, "c" * 64, status="active")

    assert await expire_handover_codes({"services": services}) == 1
    assert await expire_handover_codes({"services": services}) == 0

    db.expire_all()
    rows = {o.conversation_id: o for o in await db.scalars(select(ConversationOutcome))}
    assert rows[old].handover_code_hash is None
    assert rows[old].topics == ["pesten"] and rows[old].summary == "Kort"
    assert rows[inside].handover_code_hash == "b" * 64
    assert rows[running].handover_code_hash == "c" * 64


def test_the_worker_expires_handover_codes_nightly() -> None:
    assert HANDOVER_CODE_EXPIRY in PERIODIC_JOBS
