"""Handover codes: a short code the visitor can give to their own CLB (a face-to-face
request, a booking), behind which the counsellor's outcome of the chat is found — the
topics, referrals and summary, never the transcript.

The code has 8 characters from Crockford's base32 (32 symbols without I, L, O and U, so
2^40 codes), shown as two groups ("K7M4-QX9P"). Only its SHA-256 is stored; look-ups
forgive case, spaces, dashes and the look-alikes O/0 and I/L/1. The code goes with the
retention purge.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import repository as chat_repository
from chat.conversations import service
from chat.conversations.models import Status
from chat.counsellor_tools import repository as repo
from chat.counsellor_tools import taxonomy
from chat.counsellor_tools.models import ConversationOutcome
from chat.errors import ConversationClosed
from chat.events import system_body
from clb.auth.models import StaffAccount
from clb.i18n import gettext
from clb.services import Services

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
MEETING_PATH = "/liever-iemand-zien"
BOOKING_PATH = "/afspraak"
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


@dataclass(frozen=True)
class HandoverSummary:
    """What a CLB worker may see behind a code (labels in the current language)."""

    conversation_id: uuid.UUID
    topics: tuple[str, ...]
    referrals: tuple[str, ...]
    summary: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class HandoverOffer:
    code: str
    meeting_url: str
    booking_url: str


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise(code: str) -> str | None:
    """The code's canonical form (no dashes, upper case), or None if it cannot be one."""
    cleaned = "".join(ch for ch in code.upper() if ch not in " -\t\n\u00a0_.").translate(
        _LOOK_ALIKES
    )
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def code_hash(code: str) -> str | None:
    canonical = normalise(code)
    if canonical is None:
        return None
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def links(code: str) -> tuple[str, str]:
    """The two relative links the visitor gets; the chat shows only these as links."""
    query = "?code=" + quote(code)
    return MEETING_PATH + query, BOOKING_PATH + query


async def find_handover(session: AsyncSession, code: str) -> HandoverSummary | None:
    """The outcome behind a handover code, or None (unknown, malformed or purged)."""
    if len(code) > 40:
        return None
    digest = code_hash(code)
    if digest is None:
        return None
    row = await repo.outcome_by_code_hash(session, digest)
    return _summary(row) if row is not None else None


async def summary_for_conversation(
    session: AsyncSession, conversation_id: uuid.UUID | None
) -> HandoverSummary | None:
    """The outcome of a chat already linked (by id) to a booking or request; None when
    nothing is linked, none was recorded, or the chat was purged (the summary went with the
    transcript; the topics alone then stay for statistics only)."""
    if conversation_id is None:
        return None
    conversation = await chat_repository.get_conversation(session, conversation_id)
    if conversation is None or conversation.purged_at is not None:
        return None
    row = await repo.get_outcome(session, conversation_id)
    return _summary(row) if row is not None else None


def _summary(row: ConversationOutcome) -> HandoverSummary:
    return HandoverSummary(
        conversation_id=row.conversation_id,
        topics=tuple(
            gettext(taxonomy.TOPIC_LABELS[t]) for t in row.topics if t in taxonomy.TOPIC_LABELS
        ),
        referrals=tuple(
            gettext(taxonomy.REFERRAL_LABELS[r])
            for r in row.referrals
            if r in taxonomy.REFERRAL_LABELS
        ),
        summary=row.summary,
        recorded_at=row.recorded_at,
    )


async def offer_handover(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    conversation_id: uuid.UUID,
    now: datetime,
) -> HandoverOffer:
    """A fresh code for a running chat held by this counsellor (an earlier one stops
    working), told to the visitor as a system notice with the two links."""
    conversation = await service.locked_for_counsellor(session, staff, conversation_id)
    if conversation.status != Status.active.value:
        raise ConversationClosed()
    while True:
        code = new_code()
        digest = code_hash(code)
        assert digest is not None  # noqa: S101 - new_code only makes valid codes
        # 2^40 codes: a clash is next to impossible, but the column is unique, so check.
        if not await repo.hash_in_use(session, digest):
            break
    await repo.set_handover_hash(session, conversation_id, digest, staff.id, now)
    meeting_url, booking_url = links(code)
    body = system_body("handover_code", code=code, meeting_url=meeting_url, booking_url=booking_url)
    await service.post_notice(session, services, conversation, body, author=staff)
    return HandoverOffer(code, meeting_url, booking_url)
