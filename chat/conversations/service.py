"""The chat's use cases: start, send, claim, end, receipts, the queue estimate.

Services never commit (the HTTP request or socket frame boundary does). Every event is
published after commit, so nobody ever sees a message that is not stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chat.console import repository as staff_repository
from chat.console.models import Duty
from chat.conversations import repository
from chat.conversations.models import (
    OPEN_STATUSES,
    AgeBand,
    Conversation,
    Message,
    Sender,
    Status,
    Topic,
    Who,
)
from chat.errors import (
    AlreadyTaken,
    ChatClosed,
    ConversationClosed,
    NotAllowed,
    NotOnDuty,
    OverCapacity,
    QueueEmpty,
    QueueFull,
)
from chat.events import (
    conversation_channel,
    message_event,
    queue_channel,
    status_event,
    system_body,
)
from chat.opening_hours.schedule import opening_status
from chat.triage import service as triage
from clb import jobs
from clb.auth.models import StaffAccount
from clb.auth.service import staff_channel
from clb.db import after_commit, rollback
from clb.services import Services


@dataclass(frozen=True)
class NewConversation:
    nickname: str
    who: Who
    topic: Topic
    age_band: AgeBand | None = None
    subject: str | None = None


def _publish(
    session: AsyncSession, services: Services, channel: str, event: dict[str, Any]
) -> None:
    after_commit(session, lambda: services.bus.publish(channel, event))


def _queue_moved(session: AsyncSession, services: Services) -> None:
    _publish(session, services, queue_channel(services.keys), {"type": "queue_changed"})


async def start_conversation(
    session: AsyncSession,
    services: Services,
    visitor_id: uuid.UUID,
    form: NewConversation,
    now: datetime,
) -> tuple[Conversation, bool]:
    """A new waiting conversation, or the visitor's open one (then ``False``)."""
    existing = await repository.open_conversation_of(session, visitor_id)
    if existing is not None:
        return existing, False
    settings = services.settings
    if not settings.chat_always_open:
        hours = await opening_status(session, now, settings.chat_intake_stop_minutes)
        if not hours.intake_open:
            opening = hours.next_opening.isoformat() if hours.next_opening else None
            raise ChatClosed(details={"next_opening": opening})
    if await repository.waiting_count(session) >= settings.chat_max_queue:
        raise QueueFull()
    conversation = Conversation(
        visitor_id=visitor_id,
        nickname=form.nickname,
        who=form.who.value,
        topic=form.topic.value,
        age_band=form.age_band.value if form.age_band else None,
        subject=form.subject or None,
        time_limit_minutes=settings.chat_time_limit_minutes,
        created_at=now,
    )
    session.add(conversation)
    await session.flush()
    await triage.check_subject(session, services, conversation)
    _queue_moved(session, services)
    return conversation, True


async def start_assigned_conversation(
    session: AsyncSession,
    services: Services,
    visitor_id: uuid.UUID,
    counsellor: StaffAccount,
    *,
    nickname: str,
    subject: str,
    time_limit_minutes: int,
    now: datetime,
) -> Conversation:
    """A conversation that skips the queue: a chat by appointment, opened by the person at
    the agreed time and held by their counsellor at once (outside the chat's opening hours
    and capacity, which are for walk-in chats). The counsellor's open consoles are told."""
    conversation = Conversation(
        visitor_id=visitor_id,
        nickname=nickname[:40],
        who=Who.andere.value,
        topic=Topic.iets_anders.value,
        subject=subject[:120],
        status=Status.active.value,
        counsellor_id=counsellor.id,
        claimed_at=now,
        talk_started_at=now,
        time_limit_minutes=time_limit_minutes,
        created_at=now,
    )
    session.add(conversation)
    await session.flush()
    await post_notice(
        session,
        services,
        conversation,
        system_body("joined", name=counsellor.display_name),
        author=counsellor,
    )
    await _schedule_time_notices(session, services, conversation, now)
    _publish(
        session,
        services,
        staff_channel(services.keys, counsellor.id),
        {"type": "assigned", "conversation_id": str(conversation.id)},
    )
    return conversation


async def post_notice(
    session: AsyncSession,
    services: Services,
    conversation: Conversation,
    body: str,
    *,
    author: StaffAccount | None = None,
) -> None:
    """Store a system notice under the conversation's lock (the caller holds it)."""
    conversation.last_seq += 1
    message = Message(
        conversation_id=conversation.id,
        seq=conversation.last_seq,
        sender=Sender.system.value,
        author_id=author.id if author else None,
        body=body,
    )
    session.add(message)
    await session.flush()
    _publish(
        session,
        services,
        conversation_channel(services.keys, conversation.id),
        message_event(message, author.display_name if author else ""),
    )


async def _locked_open(session: AsyncSession, conversation_id: uuid.UUID) -> Conversation:
    conversation = await repository.lock_conversation(session, conversation_id)
    if conversation is None:
        raise NotAllowed()
    return conversation


async def locked_for_visitor(
    session: AsyncSession, visitor_id: uuid.UUID, conversation_id: uuid.UUID
) -> Conversation:
    """The conversation, locked, if it is this visitor's — checked on every frame."""
    conversation = await _locked_open(session, conversation_id)
    if conversation.visitor_id != visitor_id:
        raise NotAllowed()
    return conversation


async def _send(
    session: AsyncSession,
    services: Services,
    conversation_id: uuid.UUID,
    sender: Sender,
    body: str,
    client_msg_id: uuid.UUID,
    *,
    owner_column: repository.OwnerColumn,
    owner_id: uuid.UUID,
    statuses: tuple[str, ...],
    author: StaffAccount | None,
) -> Message:
    """The hot path: one statement stores the message with its seq. A resend of a known
    ``client_msg_id`` returns the original (the same ack); a refused send says why."""
    try:
        stored = await repository.append_message(
            session,
            conversation_id=conversation_id,
            owner_column=owner_column,
            owner_id=owner_id,
            statuses=statuses,
            sender=sender.value,
            body=body,
            client_msg_id=client_msg_id,
            author_id=author.id if author else None,
        )
    except IntegrityError:
        await rollback(session)
        stored = None
    else:
        if stored is not None:
            message = Message(
                id=stored.id,
                conversation_id=conversation_id,
                seq=stored.seq,
                sender=sender.value,
                author_id=author.id if author else None,
                client_msg_id=client_msg_id,
                body=body,
                created_at=stored.created_at,
            )
            _publish(
                session,
                services,
                conversation_channel(services.keys, conversation_id),
                message_event(message, author.display_name if author else stored.nickname),
            )
            return message
    existing = await repository.find_message(session, conversation_id, sender.value, client_msg_id)
    if existing is not None:
        return existing
    owner = getattr(Conversation, owner_column) == owner_id
    if not await repository.conversation_matches(session, conversation_id, owner):
        raise NotAllowed()
    raise ConversationClosed()


async def visitor_send(
    session: AsyncSession,
    services: Services,
    visitor_id: uuid.UUID,
    conversation_id: uuid.UUID,
    client_msg_id: uuid.UUID,
    body: str,
) -> Message:
    message = await _send(
        session,
        services,
        conversation_id,
        Sender.visitor,
        body,
        client_msg_id,
        owner_column="visitor_id",
        owner_id=visitor_id,
        statuses=OPEN_STATUSES,
        author=None,
    )
    await triage.check_message(session, services, message)  # crisis triage, same transaction
    return message


async def locked_for_counsellor(
    session: AsyncSession, staff: StaffAccount, conversation_id: uuid.UUID
) -> Conversation:
    """The conversation, locked, if this counsellor holds it — checked on every frame."""
    conversation = await _locked_open(session, conversation_id)
    if conversation.counsellor_id != staff.id:
        raise NotAllowed()
    return conversation


async def counsellor_send(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    conversation_id: uuid.UUID,
    client_msg_id: uuid.UUID,
    body: str,
) -> Message:
    return await _send(
        session,
        services,
        conversation_id,
        Sender.counsellor,
        body,
        client_msg_id,
        owner_column="counsellor_id",
        owner_id=staff.id,
        statuses=(Status.active.value,),
        author=staff,
    )


async def claim_conversation(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    conversation_id: uuid.UUID,
    now: datetime,
) -> Conversation:
    default = services.settings.chat_counsellor_capacity
    conversation = await repository.claim(session, conversation_id, staff.id, default, now)
    if conversation is None:
        await _why_not(session, services, staff)
        raise AlreadyTaken()
    await _claimed(session, services, staff, conversation, now)
    return conversation


async def claim_next_conversation(
    session: AsyncSession, services: Services, staff: StaffAccount, now: datetime
) -> Conversation:
    """ "Volgende gesprek": the highest-priority, longest-waiting chat."""
    default = services.settings.chat_counsellor_capacity
    conversation = await repository.claim_next(session, staff.id, default, now)
    if conversation is None:
        await _why_not(session, services, staff)
        raise QueueEmpty()
    await _claimed(session, services, staff, conversation, now)
    return conversation


async def _why_not(session: AsyncSession, services: Services, staff: StaffAccount) -> None:
    """A refused claim that was the counsellor's own doing says so."""
    own = await staff_repository.chat_staff(session, staff.id)
    if own is None or own.duty != Duty.on_duty.value:
        raise NotOnDuty()
    maximum = own.max_chats or services.settings.chat_counsellor_capacity
    if await repository.active_count_of(session, staff.id) >= maximum:
        raise OverCapacity()


async def _claimed(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    conversation: Conversation,
    now: datetime,
) -> None:
    await post_notice(
        session,
        services,
        conversation,
        system_body("joined", name=staff.display_name),
        author=staff,
    )
    # Planned from this claim: a chat sent back to the queue had its notices cancelled.
    await _schedule_time_notices(session, services, conversation, now)
    _publish(
        session,
        services,
        conversation_channel(services.keys, conversation.id),
        status_event(conversation, staff.display_name),
    )
    _queue_moved(session, services)


async def _schedule_time_notices(
    session: AsyncSession, services: Services, conversation: Conversation, now: datetime
) -> None:
    limit = timedelta(minutes=conversation.time_limit_minutes)
    before = timedelta(minutes=services.settings.chat_notice_before_minutes)
    for notice, run_at in (("time_soon", now + limit - before), ("time_up", now + limit)):
        payload = {"conversation_id": str(conversation.id), "notice": notice}
        await jobs.schedule_job(session, services.jobs, "chat.time_notice", payload, run_at=run_at)


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
        session, "chat.time_notice", conversation_id=str(conversation.id)
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
    if not was_waiting:
        notice = "ended_by_counsellor" if by == Sender.counsellor else "ended_by_visitor"
        await post_notice(session, services, conversation, system_body(notice, name=by_name))
    notices = await jobs.pending_jobs(
        session, "chat.time_notice", conversation_id=str(conversation.id)
    )
    for job in notices:
        jobs.cancel_job(job)
    retention = timedelta(days=services.settings.chat_retention_days)
    await jobs.schedule_job(
        session,
        services.jobs,
        "chat.purge_transcript",
        {"conversation_id": str(conversation.id)},
        run_at=now + retention,
    )
    _publish(
        session,
        services,
        conversation_channel(services.keys, conversation.id),
        status_event(conversation, None),
    )
    if was_waiting:
        _queue_moved(session, services)


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


async def record_receipt(
    session: AsyncSession,
    services: Services,
    conversation_id: uuid.UUID,
    by: Sender,
    owner_id: uuid.UUID,
    kind: repository.ReceiptKind,
    seq: int,
) -> None:
    """Remember how far one side received/read (only ever forward) and tell the other. The
    statement itself checks that the conversation is ``owner_id``'s (the visitor's, or the
    counsellor holding it); only when nothing moved do we look why."""
    side: repository.ReceiptSide = "visitor" if by == Sender.visitor else "counsellor"
    advanced = await repository.advance_receipt(session, conversation_id, side, owner_id, kind, seq)
    if advanced is None:
        owner = getattr(Conversation, f"{side}_id") == owner_id
        if not await repository.conversation_matches(session, conversation_id, owner):
            raise NotAllowed()
        return
    event = {
        "type": "receipt",
        "conversation_id": str(conversation_id),
        "by": by.value,
        "kind": kind,
        "seq": advanced,
    }
    _publish(session, services, conversation_channel(services.keys, conversation_id), event)


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
