"""Every query of "Stel je vraag": the thread, the claim, the console's list, retention."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours import repository as hours_repository
from chat.questions.models import Question, QuestionMessage
from clb.auth.models import StaffAccount


async def by_token_hash(session: AsyncSession, token_hash: str) -> Question | None:
    found: Question | None = await session.scalar(
        select(Question)
        .where(Question.token_hash == token_hash)
        .execution_options(populate_existing=True)
    )
    return found


async def token_hash_taken(session: AsyncSession, token_hash: str) -> bool:
    found = await session.scalar(select(Question.id).where(Question.token_hash == token_hash))
    return found is not None


async def get(session: AsyncSession, question_id: uuid.UUID) -> Question | None:
    return await session.get(Question, question_id, populate_existing=True)


async def lock(session: AsyncSession, question_id: uuid.UUID) -> Question | None:
    found: Question | None = await session.scalar(
        select(Question)
        .where(Question.id == question_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return found


async def next_seq(session: AsyncSession, question_id: uuid.UUID) -> int | None:
    """The thread's next number, taken under the question's row lock (held until commit,
    so two instances writing at once queue and number in one order); None when closed."""
    seq = await session.scalar(
        update(Question)
        .where(Question.id == question_id, Question.closed_at.is_(None))
        .values(last_seq=Question.last_seq + 1)
        .returning(Question.last_seq)
        .execution_options(synchronize_session=False)
    )
    return int(seq) if seq is not None else None


async def messages(session: AsyncSession, question_id: uuid.UUID) -> list[QuestionMessage]:
    rows = await session.scalars(
        select(QuestionMessage)
        .where(QuestionMessage.question_id == question_id)
        .order_by(QuestionMessage.seq)
    )
    return list(rows.all())


async def claim(
    session: AsyncSession, question_id: uuid.UUID, staff_id: uuid.UUID, now: datetime
) -> Question | None:
    """Give the open question to ``staff_id`` in one statement, unless a colleague holds it
    (a second claim by the holder is fine). None: closed, gone or held by someone else."""
    claimed: Question | None = await session.scalar(
        update(Question)
        .where(
            Question.id == question_id,
            Question.closed_at.is_(None),
            or_(Question.claimed_by.is_(None), Question.claimed_by == staff_id),
        )
        .values(claimed_by=staff_id, claimed_at=func.coalesce(Question.claimed_at, now))
        .returning(Question),
        execution_options={"populate_existing": True},
    )
    return claimed


async def open_questions(session: AsyncSession) -> list[Question]:
    """Open questions: flagged first, then waiting for an answer by target, then the ones
    waiting for the person (oldest activity first)."""
    rows = await session.scalars(
        select(Question)
        .where(Question.closed_at.is_(None))
        .order_by(
            Question.flagged_at.is_(None),
            Question.awaiting_answer.is_(False),
            Question.due_at,
            Question.last_activity_at,
        )
    )
    return list(rows.all())


@dataclass(frozen=True)
class PastTarget:
    id: uuid.UUID
    due_at: datetime
    flagged: bool
    claimed_by: uuid.UUID | None

    @property
    def short_id(self) -> str:
        return self.id.hex[:6].upper()


async def take_past_target(session: AsyncSession, now: datetime) -> list[PastTarget]:
    """Open questions still waiting for an answer after their target that nobody was told
    about for this target yet, marked as told in the same statement (two workers never
    both tell); the oldest target first."""
    rows = await session.execute(
        update(Question)
        .where(
            Question.closed_at.is_(None),
            Question.awaiting_answer.is_(True),
            Question.due_at < now,
            Question.overdue_noticed_for.is_distinct_from(Question.due_at),
        )
        .values(overdue_noticed_for=Question.due_at)
        .returning(
            Question.id, Question.due_at, Question.flagged_at.is_not(None), Question.claimed_by
        )
    )
    found = [PastTarget(qid, due, bool(flagged), by) for qid, due, flagged, by in rows.all()]
    return sorted(found, key=lambda question: question.due_at)


async def staff_names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(StaffAccount.id, StaffAccount.display_name).where(StaffAccount.id.in_(ids))
    )
    return {staff_id: name for staff_id, name in rows.all()}


async def closed_days(session: AsyncSession, first: date, last: date) -> set[date]:
    """The dates the chat's opening-hours exceptions mark as closed (holidays)."""
    rows = await hours_repository.list_exceptions(session, since=first, until=last)
    return {row.day for row in rows if row.is_closed}


async def delete_closed_before(session: AsyncSession, cutoff: datetime) -> int:
    """Retention: the questions closed before ``cutoff``, and those answered whose person
    has not written since ``cutoff`` (nobody closed them), with their threads. A question
    still waiting for an answer stays."""
    closed = and_(Question.closed_at.is_not(None), Question.closed_at < cutoff)
    left = and_(
        Question.closed_at.is_(None),
        Question.awaiting_answer.is_(False),
        Question.last_activity_at < cutoff,
    )
    result = await session.execute(delete(Question).where(or_(closed, left)))
    return int(getattr(result, "rowcount", 0) or 0)
