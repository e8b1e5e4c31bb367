"""The outcome a counsellor records when a chat ends: topics from the taxonomy, referrals
and an optional short summary for a handover to the visitor's own CLB.

The codes are kept for statistics after the retention purge; the summary (and the handover
code) go with the transcript. Editable by whoever held the chat until that purge.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import repository
from chat.conversations.models import Conversation
from chat.counsellor_tools import repository as repo
from chat.counsellor_tools import taxonomy
from chat.errors import NotAllowed
from clb.errors import ClbError, NotFound
from clb.i18n import gettext as _

SUMMARY_MAX = 1000
NO_REFERRAL = "geen"


class InvalidOutcome(ClbError):
    status = 422
    code = "invalid_outcome"
    message = "Dit resultaat kon niet bewaard worden."


class OutcomeLocked(ClbError):
    status = 409
    code = "outcome_locked"
    message = "Dit gesprek is al gewist; het resultaat kan niet meer aangepast worden."


@dataclass(frozen=True)
class OutcomeForm:
    topics: list[str]
    referrals: list[str]
    summary: str | None


@dataclass(frozen=True)
class OutcomeView:
    topics: list[str] = field(default_factory=list)
    referrals: list[str] = field(default_factory=list)
    summary: str | None = None
    has_handover_code: bool = False
    recorded_at: datetime | None = None


def _unique(codes: list[str]) -> list[str]:
    return list(dict.fromkeys(code.strip() for code in codes if code.strip()))


def validate(
    topics: list[str], referrals: list[str], summary: str | None
) -> tuple[OutcomeForm, dict[str, str]]:
    """The cleaned form and, per field, what is wrong with it (in the reader's language)."""
    errors: dict[str, str] = {}
    topic_codes = _unique(topics)
    referral_codes = _unique(referrals)
    if not topic_codes:
        errors["topics"] = _("Kies minstens één onderwerp.")
    elif any(code not in taxonomy.TOPICS for code in topic_codes):
        errors["topics"] = _("Kies onderwerpen uit de lijst.")
    if any(code not in taxonomy.REFERRAL_LABELS for code in referral_codes):
        errors["referrals"] = _("Kies doorverwijzingen uit de lijst.")
    elif NO_REFERRAL in referral_codes and len(referral_codes) > 1:
        errors["referrals"] = _("Kies ‘Geen doorverwijzing’ of een doorverwijzing, niet allebei.")
    text = (summary or "").strip()
    if len(text) > SUMMARY_MAX:
        errors["summary"] = _("De samenvatting is te lang: hoogstens 1000 tekens.")
    return OutcomeForm(topic_codes, referral_codes, text or None), errors


async def _held(
    session: AsyncSession, staff_id: uuid.UUID, conversation_id: uuid.UUID
) -> Conversation:
    """The conversation, if this person held it at some time (only they see its outcome)."""
    conversation = await repository.get_conversation(session, conversation_id)
    if conversation is None:
        raise NotFound()
    if not await repo.has_held(session, conversation_id, staff_id):
        raise NotAllowed()
    return conversation


async def _held_and_not_purged(
    session: AsyncSession, staff_id: uuid.UUID, conversation_id: uuid.UUID
) -> None:
    conversation = await _held(session, staff_id, conversation_id)
    if conversation.purged_at is not None:
        raise OutcomeLocked()


async def get_outcome(
    session: AsyncSession, staff_id: uuid.UUID, conversation_id: uuid.UUID
) -> OutcomeView:
    await _held(session, staff_id, conversation_id)
    row = await repo.get_outcome(session, conversation_id)
    if row is None:
        return OutcomeView()
    return OutcomeView(
        topics=list(row.topics),
        referrals=list(row.referrals),
        summary=row.summary,
        has_handover_code=row.handover_code_hash is not None,
        recorded_at=row.recorded_at,
    )


async def record_outcome(
    session: AsyncSession,
    staff_id: uuid.UUID,
    conversation_id: uuid.UUID,
    topics: list[str],
    referrals: list[str],
    summary: str | None,
    now: datetime,
) -> OutcomeView:
    """Insert or replace the outcome (the handover code, if any, is kept)."""
    form, errors = validate(topics, referrals, summary)
    if errors:
        raise InvalidOutcome(details={"fields": errors})
    await _held_and_not_purged(session, staff_id, conversation_id)
    await repo.upsert_outcome(
        session,
        conversation_id,
        topics=form.topics,
        referrals=form.referrals,
        summary=form.summary,
        recorded_by=staff_id,
        now=now,
    )
    return await get_outcome(session, staff_id, conversation_id)
