"""Crisis triage: the pre-chat subject and every visitor message are checked against the
coordinators' lexicon (chat.triage_match) inside the transaction that stores them.

A hit records a ``conversation_flags`` row (the lexicon term, never the message), marks
the conversation (``flagged_at``) and raises its priority, so it moves ahead of older
chats in the queue. After commit, on-duty coordinators get an alert on the supervision
channel and the counsellor holding the chat gets a "flagged" event on their own channel.
Nothing is ever published on the conversation channel (visitors' sockets read it), and
nothing is auto-replied or closed. A counsellor or coordinator dismisses a false flag with
a reason; that is audited (without content).

The hot path costs no query: the compiled lexicon is cached per process and rebuilt when
the lexicon's version number in Redis changes (looked at no more than every
``VERSION_CHECK_SECONDS``; an edit in this process rebuilds at once).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import repository
from chat.conversations.models import Conversation, Message, Sender, Status
from chat.errors import NotAllowed
from chat.events import queue_channel, supervision_channel
from chat.triage import repository as triage_repository
from chat.triage.match import Matcher, clean_term, term_key, term_problem
from chat.triage.models import ConversationFlag, TriageTerm
from clb.audit import record_audit
from clb.auth.models import Role, StaffAccount
from clb.auth.service import staff_channel
from clb.db import after_commit, utcnow
from clb.errors import ClbError
from clb.services import Services

log = logging.getLogger(__name__)

FLAG_PRIORITY = 10  # ahead of every ordinary chat (priority 0)
VERSION_CHECK_SECONDS = 2.0
REASON_MIN, REASON_MAX = 3, 300


# Why a term is refused (chat.triage_match.term_problem), shown next to the field.
TERM_PROBLEMS = {
    "empty": "Vul een woord, een zinsdeel of een emoji in.",
    "too_long": "Een term is hoogstens 100 tekens lang.",
    "mixed": "Een term bestaat uit woorden of uit emoji, niet uit allebei.",
    "star_after_emoji": "Een sterretje (*) hoort alleen achter een woord.",
    "star_inside": "Een sterretje (*) mag alleen helemaal achteraan staan.",
    "no_letter": "Een term moet minstens één letter bevatten.",
    "too_short": "Een term moet minstens drie letters lang zijn.",
}


class InvalidTerm(ClbError):
    status = 422
    code = "invalid_term"
    message = "Vul een woord, een zinsdeel of een emoji in."


class DuplicateTerm(ClbError):
    status = 409
    code = "duplicate_term"
    message = "Deze term staat al in de lijst."


class InvalidDismissReason(ClbError):
    status = 422
    code = "invalid_reason"
    message = "Geef een reden van 3 tot 300 tekens."


class NoOpenFlag(ClbError):
    status = 409
    code = "no_open_flag"
    message = "Dit gesprek heeft geen open crisissignaal."


# --- The per-process lexicon cache -------------------------------------------------------


def version_key(services: Services) -> str:
    return services.keys.key("chat", "triage", "version")


class LexiconCache:
    KEY = "chat.triage"

    def __init__(self) -> None:
        self.matcher: Matcher | None = None
        self.version: bytes | None = None
        self.checked_at = 0.0

    @classmethod
    def of(cls, services: Services) -> LexiconCache:
        cache = services.local.get(cls.KEY)
        if cache is None:
            cache = services.local[cls.KEY] = cls()
        assert isinstance(cache, LexiconCache)  # noqa: S101 - one type under this key
        return cache

    async def matcher_for(self, session: AsyncSession | None, services: Services) -> Matcher:
        """The lexicon's matcher, rebuilt when another process changed it (``session``:
        where to read the terms; None opens a session only if they must be read)."""
        now = time.monotonic()
        if self.matcher is not None and now - self.checked_at < VERSION_CHECK_SECONDS:
            return self.matcher
        try:
            # Read the version before the terms: an edit committed in between then only
            # makes us rebuild once more, never keep an old list under a new number.
            # On the send path: a slow Redis never holds up a message.
            version = await asyncio.wait_for(services.redis.get(version_key(services)), 0.25)
        except (RedisError, TimeoutError):
            log.warning("triage lexicon version unavailable; keeping the cached lexicon")
            version = self.version
        self.checked_at = now
        if self.matcher is None or version != self.version:
            if session is None:
                async with services.sessionmaker() as own:
                    terms = await triage_repository.all_terms(own)
            else:
                terms = await triage_repository.all_terms(session)
            self.matcher = Matcher(terms)
            self.version = version
        return self.matcher

    def invalidate(self) -> None:
        self.matcher = None


async def _lexicon_changed(services: Services) -> None:
    """After commit: rebuild here at once, and tell the other processes (they look at
    the version number within ``VERSION_CHECK_SECONDS``)."""
    LexiconCache.of(services).invalidate()
    await services.redis.incr(version_key(services))


# --- The hooks in chat.service ------------------------------------------------------------


async def check_subject(
    session: AsyncSession, services: Services, conversation: Conversation
) -> None:
    """Called by ``start_conversation`` once the new conversation is flushed."""
    if not conversation.subject:
        return
    matcher = await LexiconCache.of(services).matcher_for(session, services)
    hit = matcher.first(conversation.subject)
    if hit is not None:
        await _raise_flag(session, services, conversation, "subject", None, hit.term)


async def would_flag(services: Services, body: str) -> bool:
    """Whether a visitor's message would raise a flag: such a message is stored on the
    path that flags it in the same transaction, the others by group commit."""
    matcher = await LexiconCache.of(services).matcher_for(None, services)
    return matcher.first(body) is not None


async def check_message(session: AsyncSession, services: Services, message: Message) -> None:
    """Called by ``visitor_send`` once the message is stored (same transaction, the
    conversation row is locked by the insert)."""
    if message.sender != Sender.visitor.value:
        return
    matcher = await LexiconCache.of(services).matcher_for(session, services)
    hit = matcher.first(message.body)
    if hit is None:
        return
    conversation_id = message.conversation_id
    if await triage_repository.flag_exists(session, conversation_id, "message", message.seq):
        return  # a resend of a message already flagged
    conversation = await repository.get_conversation(session, conversation_id)
    if conversation is not None:
        await _raise_flag(session, services, conversation, "message", message.seq, hit.term)


async def _raise_flag(
    session: AsyncSession,
    services: Services,
    conversation: Conversation,
    source: str,
    seq: int | None,
    term: str,
) -> None:
    now = utcnow()
    newly = conversation.flagged_at is None
    session.add(
        ConversationFlag(
            conversation_id=conversation.id, source=source, seq=seq, term=term, created_at=now
        )
    )
    if newly:
        conversation.flagged_at = now
    conversation.priority = max(conversation.priority, FLAG_PRIORITY)
    await session.flush()
    if not newly:
        return  # already marked and announced: a second hit is recorded, not re-alerted
    alert = flag_alert(conversation, source, term, seq, now)
    bus, keys = services.bus, services.keys
    # Published in this order after commit: the coordinators first (the alert that matters
    # most), then the counsellor holding the chat, then the queue.
    after_commit(session, lambda: bus.publish(supervision_channel(keys), alert))
    if conversation.status == Status.active.value and conversation.counsellor_id is not None:
        flagged = {k: alert[k] for k in ("conversation_id", "source", "term", "at", "seq")}
        flagged["type"] = "flagged"
        channel = staff_channel(keys, conversation.counsellor_id)
        after_commit(session, lambda: bus.publish(channel, flagged))
    if conversation.status == Status.waiting.value:
        after_commit(session, lambda: bus.publish(queue_channel(keys), {"type": "queue_changed"}))


def flag_alert(
    conversation: Conversation, source: str, term: str, seq: int | None, at: datetime
) -> dict[str, Any]:
    """The coordinators' alert (supervision channel). No message text, only the term."""
    return {
        "type": "flag",
        "conversation_id": str(conversation.id),
        "source": source,
        "term": term,
        "seq": seq,
        "at": at.isoformat(),
        "nickname": conversation.nickname,
        "status": conversation.status,
    }


# --- Dismissing a false flag -------------------------------------------------------------


def clean_reason(reason: str) -> str:
    cleaned = " ".join(reason.split())
    if not REASON_MIN <= len(cleaned) <= REASON_MAX:
        raise InvalidDismissReason(details={"field": "reason"})
    return cleaned


async def dismiss_flags(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    conversation_id: uuid.UUID,
    reason: str,
    now: datetime,
) -> int:
    """The counsellor holding the chat, or a coordinator, clears its open flags. Returns
    how many flags were dismissed. A later hit flags the conversation again."""
    cleaned = clean_reason(reason)
    conversation = await repository.lock_conversation(session, conversation_id)
    if conversation is None:
        raise NotAllowed()
    if conversation.counsellor_id != staff.id and not staff.has_role(Role.coordinator):
        raise NotAllowed()
    dismissed = await triage_repository.dismiss_open_flags(
        session, conversation_id, staff.id, cleaned, now
    )
    if not dismissed and conversation.flagged_at is None:
        raise NoOpenFlag()
    conversation.flagged_at = None
    if conversation.priority == FLAG_PRIORITY:
        conversation.priority = 0
    record_audit(
        session,
        "chat.flag_dismissed",
        actor_id=staff.id,
        object_type="conversation",
        object_id=str(conversation_id),
    )
    event = {
        "type": "flag_dismissed",
        "conversation_id": str(conversation_id),
        "at": now.isoformat(),
        "by": staff.display_name,
    }
    bus, keys = services.bus, services.keys
    after_commit(session, lambda: bus.publish(supervision_channel(keys), event))
    if conversation.counsellor_id is not None:
        channel = staff_channel(keys, conversation.counsellor_id)
        after_commit(session, lambda: bus.publish(channel, event))
    if conversation.status == Status.waiting.value:
        after_commit(session, lambda: bus.publish(queue_channel(keys), {"type": "queue_changed"}))
    return dismissed


# --- Editing the lexicon -----------------------------------------------------------------


@dataclass(frozen=True)
class TermCheck:
    term: str
    matched: str | None


async def add_term(
    session: AsyncSession, services: Services, staff: StaffAccount, raw: str
) -> TriageTerm:
    term = clean_term(raw)
    problem = term_problem(term)
    if problem is not None:
        raise InvalidTerm(TERM_PROBLEMS[problem], details={"field": "term", "problem": problem})
    key = term_key(term)
    if any(term_key(existing) == key for existing in await triage_repository.all_terms(session)):
        raise DuplicateTerm()
    row = TriageTerm(term=term, added_by=staff.id)
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise DuplicateTerm() from None
    record_audit(
        session,
        "chat.triage_term_added",
        actor_id=staff.id,
        object_type="triage_term",
        object_id=str(row.id),
    )
    after_commit(session, lambda: _lexicon_changed(services))
    return row


async def remove_term(
    session: AsyncSession, services: Services, staff: StaffAccount, term_id: int
) -> None:
    if not await triage_repository.delete_term(session, term_id):
        return  # already gone (a double click, a colleague): nothing to undo
    record_audit(
        session,
        "chat.triage_term_removed",
        actor_id=staff.id,
        object_type="triage_term",
        object_id=str(term_id),
    )
    after_commit(session, lambda: _lexicon_changed(services))
