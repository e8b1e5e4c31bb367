"""Supervision: the coordinators' picture of the chat right now, silent read-along and the
whisper (a message only the counsellor of a chat sees).

Presence tells the truth here as in the queue: a counsellor counts as available only when
on duty (``chat_staff``) AND their console was heard from recently (Redis). Duty alone is
a promise, the heartbeat is the proof.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import repository
from chat.conversations.models import OPEN_STATUSES, Conversation, Status
from chat.errors import ConversationClosed
from chat.events import publish_after_commit
from chat.realtime import presence
from chat.supervision import repository as sup_repo
from chat.supervision.audit_reads import READ_ALONG, record_read_along, record_whisper
from chat.supervision.read_along_rule import (
    READ_ALONG_AUDIT_WINDOW,
    check_read_along,
    read_along_refusal,
)
from clb.auth import service as auth_service
from clb.auth.models import StaffAccount
from clb.errors import ClbError, NotFound
from clb.services import Services

MAX_WHISPER = 1000


class CounsellorState(enum.StrEnum):
    free = "free"  # on duty, console open, no chat
    busy = "busy"  # on duty, console open, chatting, room for more
    full = "full"  # on duty, console open, at capacity
    pause = "pause"
    away = "away"  # on duty, but no console heard from: not available
    off_duty = "off_duty"  # console open, not on duty


class NoCounsellor(ClbError):
    status = 409
    code = "no_counsellor"
    message = "Niemand voert dit gesprek nu: fluisteren kan pas als een hulpverlener het heeft."


class WhisperInvalid(ClbError):
    status = 422
    code = "validation_failed"
    message = "Schrijf een bericht van hoogstens 1000 tekens."


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _seconds_since(moment: datetime | None, now: datetime) -> int:
    return max(0, int((now - moment).total_seconds())) if moment else 0


def _conversation(c: Conversation, counsellor: str | None, now: datetime) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "status": c.status,
        "nickname": c.nickname,
        "who": c.who,
        "topic": c.topic,
        "language": c.language,
        "counsellor": counsellor,
        "priority": c.priority,
        "flagged": c.flagged_at is not None,
        "created_at": _iso(c.created_at),
        "claimed_at": _iso(c.claimed_at),
        "running_seconds": _seconds_since(c.claimed_at, now),
    }


def counsellor_state(duty: str, fresh: bool, active: int, capacity: int) -> CounsellorState:
    if duty == "pause":
        return CounsellorState.pause
    if duty != "on_duty":
        return CounsellorState.off_duty
    if not fresh:
        return CounsellorState.away
    if active >= capacity:
        return CounsellorState.full
    return CounsellorState.busy if active else CounsellorState.free


def _counsellors(
    staff_rows: list[sup_repo.StaffRow],
    per_counsellor: dict[uuid.UUID, int],
    fresh: set[uuid.UUID],
    default_capacity: int,
) -> dict[str, Any]:
    """How many counsellors are in each state, the free places, and each of them."""
    people = []
    counts = {state.value: 0 for state in CounsellorState}
    free_slots = 0
    for row in staff_rows:
        capacity = row.max_chats or default_capacity
        active = per_counsellor.get(row.staff_id, 0)
        state = counsellor_state(row.duty, row.staff_id in fresh, active, capacity)
        counts[state.value] += 1
        if state in (CounsellorState.free, CounsellorState.busy):
            free_slots += capacity - active
        people.append(
            {
                "id": str(row.staff_id),
                "name": row.name,
                "state": state.value,
                "active": active,
                "capacity": capacity,
                "duty_since": _iso(row.duty_since),
            }
        )
    return {
        "available": counts["free"] + counts["busy"] + counts["full"],
        "busy": counts["busy"] + counts["full"],
        "at_capacity": counts["full"],
        "free": counts["free"],
        "pause": counts["pause"],
        "away": counts["away"],
        "free_slots": free_slots,
        "people": people,
    }


def _flagged(flags: list[sup_repo.OpenFlag], now: datetime) -> list[dict[str, Any]]:
    """One entry per flagged conversation with every term that matched in it."""
    flagged: dict[str, dict[str, Any]] = {}
    for flag in flags:  # newest first: the first row per conversation is its latest hit
        key = str(flag.conversation.id)
        entry = flagged.get(key)
        if entry is None:
            entry = flagged[key] = {
                **_conversation(flag.conversation, flag.counsellor, now),
                "terms": [],
                "source": flag.source,
                "flagged_at": _iso(flag.at),
            }
        if flag.term not in entry["terms"]:
            entry["terms"].append(flag.term)
    return list(flagged.values())


async def _mark_readable(
    session: AsyncSession,
    reader: StaffAccount,
    running: list[sup_repo.RunningChat],
    in_progress: list[dict[str, Any]],
    flags: list[sup_repo.OpenFlag],
    flagged: list[dict[str, Any]],
) -> None:
    """Give each listed chat ``read_along_refused``: null when ``reader`` may read along,
    else the Refusal, so the dashboard offers "Meelezen" only where it would be allowed."""
    allows = await sup_repo.centre_reads_along(session, reader.centre_id)

    def judge(counsellor_centre: uuid.UUID | None) -> str | None:
        refusal = read_along_refusal(counsellor_centre, reader.centre_id, allows)
        return refusal.value if refusal else None

    for entry, chat in zip(in_progress, running, strict=True):
        entry["read_along_refused"] = judge(chat.counsellor_centre)
    centres = {str(flag.conversation.id): flag.counsellor_centre for flag in flags}
    for entry in flagged:
        entry["read_along_refused"] = judge(centres[entry["id"]])


async def snapshot(
    session: AsyncSession, services: Services, now: datetime, reader: StaffAccount | None = None
) -> dict[str, Any]:
    """The dashboard: waiting, longest wait, counsellors, chats in progress, open flags;
    for a ``reader``, whether they may read along with each chat listed."""
    fresh = await presence.fresh_counsellors(services.redis, services.keys)
    since = await sup_repo.waiting_since(session)
    # The queue as pupils meet it: only those who are there (docs/queue-and-presence.md).
    present = await presence.present_visitors(services.redis, services.keys, since)
    oldest = min((since[c] for c in present), default=None)
    running = await sup_repo.running_chats(session)
    per_counsellor = await sup_repo.active_chats_per_counsellor(session)
    staff_rows = await sup_repo.chat_staff_rows(session, fresh)
    flags = await sup_repo.open_flags(session)
    default_capacity = services.settings.chat_counsellor_capacity
    in_progress = [_conversation(r.conversation, r.counsellor, now) for r in running]
    flagged = _flagged(flags, now)
    if reader is not None:
        await _mark_readable(session, reader, running, in_progress, flags, flagged)
    return {
        "at": now.isoformat(),
        "waiting": len(present),
        "away": len(since) - len(present),
        "longest_wait_seconds": _seconds_since(oldest, now),
        "oldest_waiting_since": _iso(oldest),
        "counsellors": _counsellors(staff_rows, per_counsellor, fresh, default_capacity),
        "in_progress": in_progress,
        "in_progress_count": len(running),
        "flagged": flagged,
    }


async def readable_conversation(
    session: AsyncSession, reader: StaffAccount, conversation_id: uuid.UUID
) -> Conversation:
    """A conversation this coordinator may read along with: running, not purged, and
    allowed (check_read_along)."""
    conversation = await repository.get_conversation(session, conversation_id)
    if conversation is None or conversation.purged_at is not None:
        raise NotFound()
    if conversation.status not in OPEN_STATUSES:
        raise ConversationClosed()
    await check_read_along(session, reader, conversation)
    return conversation


async def audit_read_along(
    session: AsyncSession,
    coordinator: StaffAccount,
    conversation_id: uuid.UUID,
    now: datetime,
    *,
    always: bool,
) -> None:
    """``always``: an opening of the read-along page. Otherwise (the live socket attaching,
    or re-attaching after a network blip) only when this coordinator has no entry for this
    conversation within the window, so one opening is one entry."""
    if not always and await sup_repo.recent_audit(
        session, coordinator.id, READ_ALONG, str(conversation_id), now - READ_ALONG_AUDIT_WINDOW
    ):
        return
    record_read_along(session, coordinator.id, conversation_id)


def whisper_event(
    conversation_id: uuid.UUID, author: str, body: str, at: datetime
) -> dict[str, Any]:
    return {
        "type": "whisper",
        "conversation_id": str(conversation_id),
        "from": author,
        "body": body,
        "at": at.isoformat(),
    }


async def whisper(
    session: AsyncSession,
    services: Services,
    coordinator: StaffAccount,
    conversation_id: uuid.UUID,
    body: str,
    now: datetime,
) -> dict[str, Any]:
    """Store a whisper for the counsellor who holds the chat and, after commit, send it to
    their consoles only — never on the conversation's channel, where the visitor listens."""
    text = body.strip()
    if not text or len(text) > MAX_WHISPER:
        raise WhisperInvalid()
    conversation = await repository.get_conversation(session, conversation_id)
    if conversation is None or conversation.purged_at is not None:
        raise NotFound()
    if conversation.status == Status.waiting.value or conversation.counsellor_id is None:
        raise NoCounsellor()
    if conversation.status != Status.active.value:
        raise ConversationClosed()
    await check_read_along(session, coordinator, conversation)
    recipient = conversation.counsellor_id
    await sup_repo.add_whisper(session, conversation_id, coordinator.id, recipient, text, now)
    record_whisper(session, coordinator.id, conversation_id)
    event = whisper_event(conversation_id, coordinator.display_name, text, now)
    channel = auth_service.staff_channel(services.keys, recipient)
    publish_after_commit(session, services, channel, event)
    return event


async def whispers_for(
    session: AsyncSession, staff: StaffAccount, conversation_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The whispers a counsellor received in a chat they hold (e.g. after a reload)."""
    conversation = await repository.get_conversation(session, conversation_id)
    if conversation is None or conversation.counsellor_id != staff.id:
        raise NotFound()
    rows = await sup_repo.whispers_for(session, conversation_id, staff.id)
    return [
        whisper_event(conversation_id, author or "", note.body, note.created_at)
        for note, author in rows
    ]
