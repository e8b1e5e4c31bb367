"""Deferred chat work, run by the worker through the outbox (clb.jobs)."""

from __future__ import annotations

import uuid
from typing import Any

from chat.conversations import repository
from chat.conversations.away import end_away_conversations
from chat.conversations.models import Status
from chat.conversations.service import post_notice
from chat.counsellor_tools.repository import purge_counsellor_tools
from chat.events import system_body
from clb.db import utcnow
from clb.jobs import JobContext, job_handler
from clb.worker import PeriodicJob


@job_handler("chat.time_notice")
async def time_notice(ctx: JobContext, payload: dict[str, Any]) -> None:
    """ "Five more minutes" and "time is up" as system messages. Never closes the chat: the
    counsellor decides how to end a conversation with someone who may be in distress."""
    conversation = await repository.lock_conversation(
        ctx.session, uuid.UUID(payload["conversation_id"])
    )
    if conversation is None or conversation.status != Status.active.value:
        return
    params = {"minutes": ctx.services.settings.chat_notice_before_minutes}
    body = system_body(payload["notice"], **(params if payload["notice"] == "time_soon" else {}))
    await post_notice(ctx.session, ctx.services, conversation, body)


@job_handler("chat.purge_transcript")
async def purge_transcript(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Retention: the transcript goes, the statistics stay."""
    await repository.purge_transcript(ctx.session, uuid.UUID(payload["conversation_id"]), utcnow())
    await purge_counsellor_tools(ctx.session, uuid.UUID(payload["conversation_id"]))


async def end_chats_of_away_visitors(ctx: dict[str, Any]) -> int:
    return len(await end_away_conversations(ctx["services"]))


# Four times a minute: the return window is minutes long, so an away visitor's chat ends
# within 15 s of it.
AWAY_SWEEP = PeriodicJob(end_chats_of_away_visitors, second={0, 15, 30, 45}, timeout=60)
