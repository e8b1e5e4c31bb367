"""How a conversation begins: a visitor joins the queue (inside opening hours, while the
queue has room), a counsellor claims one, or an appointment opens one already held."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from chat.console import repository as staff_repository
from chat.console.models import Duty
from chat.conversations import repository
from chat.conversations.ending import schedule_time_notices
from chat.conversations.messaging import post_notice
from chat.conversations.models import OPEN_STATUSES, AgeBand, Conversation, Status, Topic, Who
from chat.errors import (
    AlreadyTaken,
    ChatClosed,
    NotOnDuty,
    OverCapacity,
    QueueEmpty,
    QueueFull,
)
from chat.events import publish_after_commit, publish_queue_moved, publish_status, system_body
from chat.opening_hours.service import opening_status
from chat.realtime import presence
from chat.triage import service as triage
from clb.auth.models import StaffAccount
from clb.auth.service import staff_channel
from clb.errors import ClbError
from clb.i18n import SOURCE_LANGUAGE
from clb.ratelimit import Rate
from clb.services import Services

TOO_MANY_STARTS = (
    "Je hebt al een paar chats na elkaar gestart. Wacht even, of bel of mail je CLB als het "
    "dringend is."
)


@dataclass(frozen=True)
class NewConversation:
    nickname: str
    who: Who
    topic: Topic
    age_band: AgeBand | None = None
    subject: str | None = None
    language: str = SOURCE_LANGUAGE
    # The hashed client address: new chats per address are capped (a school shares one).
    address: str = "unknown"


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
    if await present_waiting_count(session, services) >= settings.chat_max_queue:
        raise QueueFull()
    await _count_start(services, visitor_id, form.address)
    conversation = Conversation(
        visitor_id=visitor_id,
        nickname=form.nickname,
        who=form.who.value,
        topic=form.topic.value,
        age_band=form.age_band.value if form.age_band else None,
        subject=form.subject or None,
        language=form.language,
        time_limit_minutes=settings.chat_time_limit_minutes,
        created_at=now,
    )
    session.add(conversation)
    await session.flush()
    await triage.check_subject(session, services, conversation)
    # Not in the queue yet: that begins when the visitor's page connects (joined_at).
    return conversation, True


async def present_waiting_count(session: AsyncSession, services: Services) -> int:
    """Waiting chats whose visitor is there now: the queue as others meet it."""
    waiting = await repository.waiting_ids(session)
    return len(await presence.present_visitors(services.redis, services.keys, waiting))


async def _count_start(services: Services, visitor_id: uuid.UUID, address: str) -> None:
    """New chats per visitor token and per address, per hour: a finished token cannot start
    again and again, and one address cannot keep the queue full."""
    settings = services.settings
    for name, per_hour in (
        (f"chat:start:visitor:{visitor_id}", settings.chat_starts_per_visitor_per_hour),
        (f"chat:start:address:{address}", settings.chat_starts_per_address_per_hour),
    ):
        decision = await services.limiter.hit(name, Rate(per_hour, 3600))
        decision.raise_if_denied(TOO_MANY_STARTS)


async def open_assigned_conversation(
    session: AsyncSession,
    services: Services,
    conversation_id: uuid.UUID | None,
    visitor_id: uuid.UUID,
    counsellor: StaffAccount,
    *,
    nickname: str,
    subject: str,
    time_limit_minutes: int,
    now: datetime,
) -> Conversation:
    """A chat by appointment. The conversation ``conversation_id`` handed to ``visitor_id``
    while it is still open (a second device or a lost tab takes it over); else a new one
    that skips the queue, opened by the person at the agreed time and held by their
    counsellor at once (outside the chat's opening hours and capacity, which are for
    walk-in chats). The counsellor's open consoles are told of a new one."""
    existing = (
        await repository.get_conversation(session, conversation_id) if conversation_id else None
    )
    if existing is not None and existing.status in OPEN_STATUSES:
        existing.visitor_id = visitor_id
        return existing
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
    await _joined(session, services, counsellor, conversation, now)
    publish_after_commit(
        session,
        services,
        staff_channel(services.keys, counsellor.id),
        {"type": "assigned", "conversation_id": str(conversation.id)},
    )
    return conversation


async def claim_conversation(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    conversation_id: uuid.UUID,
    now: datetime,
) -> Conversation:
    default = services.settings.chat_counsellor_capacity
    conversation = await repository.claim(session, conversation_id, staff.id, default, now)
    return await _claimed(session, services, staff, conversation, now, refused=AlreadyTaken)


async def claim_next_conversation(
    session: AsyncSession, services: Services, staff: StaffAccount, now: datetime
) -> Conversation:
    """ "Volgende gesprek": the highest-priority, longest-waiting chat of a visitor who is
    there (one who went away keeps their place, but nobody waits for them). A chat in
    another language waits a while for a counsellor who speaks it, while one is available
    (repository.LanguageRule)."""
    settings = services.settings
    default = settings.chat_counsellor_capacity
    waiting = await repository.waiting_ids(session)
    present = await presence.present_visitors(services.redis, services.keys, waiting)
    rule = repository.LanguageRule(
        fresh=await presence.fresh_counsellors(services.redis, services.keys),
        wait=timedelta(seconds=settings.chat_language_wait_seconds),
    )
    conversation = await repository.claim_next(
        session, staff.id, default, now, [c for c in waiting if c in present], rule
    )
    return await _claimed(session, services, staff, conversation, now, refused=QueueEmpty)


async def _why_not(session: AsyncSession, services: Services, staff: StaffAccount) -> None:
    """A refused claim that was the counsellor's own doing says so."""
    own = await staff_repository.chat_staff(session, staff.id)
    if own is None or own.duty != Duty.on_duty.value:
        raise NotOnDuty()
    maximum = own.max_chats or services.settings.chat_counsellor_capacity
    if await repository.active_count_of(session, staff.id) >= maximum:
        raise OverCapacity()


async def _joined(
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
    await schedule_time_notices(session, services, conversation, now)


async def _claimed(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    conversation: Conversation | None,
    now: datetime,
    *,
    refused: type[ClbError],
) -> Conversation:
    """Announce a claim; a refused one (``conversation`` None) raises why, else ``refused``."""
    if conversation is None:
        await _why_not(session, services, staff)
        raise refused()
    await _joined(session, services, staff, conversation, now)
    publish_status(session, services, conversation, staff.display_name)
    publish_queue_moved(session, services)
    return conversation
