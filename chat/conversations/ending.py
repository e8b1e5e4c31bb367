"""A conversation's time limit and its end: the planned "time is nearly up" notices,
extending, ending by either side, and the visitor's rating afterwards."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.messaging import locked_for_counsellor, locked_for_visitor, post_notice
from chat.conversations.models import OPEN_STATUSES, Conversation, Sender, Status
from chat.errors import ConversationClosed
from chat.events import (
    conversation_channel,
    presence_event,
    publish_after_commit,
    publish_queue_moved,
    publish_status,
    system_body,
)
from clb import jobs
from clb.auth.models import StaffAccount
from clb.services import Services

TIME_NOTICE_JOB = "chat.time_notice"


async def schedule_time_notices(
    session: AsyncSession, services: Services, conversation: Conversation, now: datetime
) -> None:
    limit = timedelta(minutes=conversation.time_limit_minutes)
    before = timedelta(minutes=services.settings.chat_notice_before_minutes)
    for notice, run_at in (("time_soon", now + limit - before), ("time_up", now + limit)):
        payload = {"conversation_id": str(conversation.id), "notice": notice}
        await jobs.schedule_job(session, services.jobs, TIME_NOTICE_JOB, payload, run_at=run_at)


async def cancel_time_notices(session: AsyncSession, conversation: Conversation) -> None:
    for job in await jobs.pending_jobs(
        session, TIME_NOTICE_JOB, conversation_id=str(conversation.id)
    ):
        jobs.cancel_job(job)


async def extend_conversation(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    conversation_id: uuid.UUID,
    minutes: int,
) -> None:
    conversation = await locked_for_counsellor(session, staff, conversation_id)
    if conversation.status != Status.active.value:
        raise ConversationClosed()
    conversation.time_limit_minutes += minutes
    notices = await jobs.pending_jobs(
        session, TIME_NOTICE_JOB, conversation_id=str(conversation.id)
    )
    for job in notices:
        await jobs.reschedule_job(
            session, services.jobs, job, job.run_at + timedelta(minutes=minutes)
        )
    await post_notice(
        session,
        services,
        conversation,
        system_body("extended", minutes=minutes),
        author=staff,
    )


async def end_conversation(
    session: AsyncSession,
    services: Services,
    conversation: Conversation,
    by: Sender,
    now: datetime,
    *,
    by_name: str,
) -> None:
    """End a waiting or running conversation (caller holds its lock)."""
    if conversation.status not in OPEN_STATUSES:
        return
    was_waiting = conversation.status == Status.waiting.value
    conversation.status = Status.abandoned.value if was_waiting else Status.ended.value
    conversation.ended_at = now
    conversation.ended_by = by.value
    if not was_waiting and by != Sender.system:
        notice = "ended_by_counsellor" if by == Sender.counsellor else "ended_by_visitor"
        await post_notice(session, services, conversation, system_body(notice, name=by_name))
    await cancel_time_notices(session, conversation)
    retention = timedelta(days=services.settings.chat_retention_days)
    await jobs.schedule_job(
        session,
        services.jobs,
        "chat.purge_transcript",
        {"conversation_id": str(conversation.id)},
        run_at=now + retention,
    )
    publish_status(session, services, conversation, None)
    if was_waiting:
        publish_queue_moved(session, services)


async def visitor_leave(
    session: AsyncSession,
    services: Services,
    visitor_id: uuid.UUID,
    conversation_id: uuid.UUID,
    now: datetime,
) -> None:
    conversation = await locked_for_visitor(session, visitor_id, conversation_id)
    await end_conversation(
        session, services, conversation, Sender.visitor, now, by_name=conversation.nickname
    )


async def visitor_exit(
    session: AsyncSession,
    services: Services,
    visitor_id: uuid.UUID,
    conversation_id: uuid.UUID,
    now: datetime,
) -> None:
    """Quick exit: the visitor left on purpose and nothing stays on their device. Waiting:
    the chat leaves the queue. Running: it stays open and the counsellor reads at once that
    the visitor left; they decide how to end it."""
    conversation = await locked_for_visitor(session, visitor_id, conversation_id)
    if conversation.status == Status.waiting.value:
        await end_conversation(
            session, services, conversation, Sender.visitor, now, by_name=conversation.nickname
        )
    elif conversation.status == Status.active.value and conversation.visitor_left_at is None:
        conversation.visitor_left_at = now
        await post_notice(
            session, services, conversation, system_body("visitor_left", name=conversation.nickname)
        )
        publish_after_commit(
            session,
            services,
            conversation_channel(services.keys, conversation.id),
            presence_event(conversation.id, since=now.timestamp(), left=True),
        )


async def end_while_away(
    session: AsyncSession, services: Services, conversation: Conversation, now: datetime
) -> None:
    """The visitor stayed away past the window (caller holds the lock). Waiting: the chat
    ends as abandoned, as if they had left. Running: it ends with a notice saying why."""
    if conversation.status == Status.active.value:
        await post_notice(
            session, services, conversation, system_body("ended_away", name=conversation.nickname)
        )
    await end_conversation(session, services, conversation, Sender.system, now, by_name="")


async def rate_conversation(
    session: AsyncSession,
    visitor_id: uuid.UUID,
    conversation_id: uuid.UUID,
    stars: int,
    comment: str | None,
) -> None:
    conversation = await locked_for_visitor(session, visitor_id, conversation_id)
    if conversation.status != Status.ended.value:
        raise ConversationClosed("Je kan een gesprek pas beoordelen als het afgelopen is.")
    if conversation.rating is None:
        conversation.rating = stars
        conversation.rating_comment = comment or None
