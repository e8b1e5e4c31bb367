"""Stel je vraag: asking, replying, and the counsellors' claim, answer and close.

Nothing here commits: the caller's transaction does. Every message takes its ``seq`` under
the question's row lock (repository.next_seq), so the order is one for everyone. The
person's texts go through the chat's crisis lexicon (chat.triage) in the same transaction:
a hit marks the question (``flagged_at``, the term, never the text), which puts it on top
of the console's list, and after commit the coordinators get the same supervision alert a
flagged chat raises. Nothing is auto-replied or closed because of a flag.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from chat.conversations.models import AgeBand, Topic, Who
from chat.events import publish_after_commit, supervision_channel
from chat.questions import codes, repository
from chat.questions.models import BODY_MAX, Author, Question, QuestionMessage
from chat.triage.service import LexiconCache
from clb.auth.models import Role, StaffAccount
from clb.errors import ClbError
from clb.jobs import NewJob, schedule_jobs
from clb.services import Services

ANSWER_NOTICE_JOB = "chat.question_answer_notice"
CONSOLE_PATH = "/console/vragen"
EMAIL_INVALID = "Dit e-mailadres klopt niet. Bijvoorbeeld: naam@voorbeeld.be"


class InvalidQuestion(ClbError):
    status = 422
    code = "invalid_question"
    message = "Schrijf je vraag."

    def __init__(self, message: str | None = None, *, field: str = "body") -> None:
        super().__init__(message, details={"field": field})
        self.field = field


class QuestionNotFound(ClbError):
    status = 404
    code = "question_not_found"
    message = "Deze vraag bestaat niet (meer)."


class QuestionClosed(ClbError):
    status = 409
    code = "question_closed"
    message = "Deze vraag is afgesloten. Heb je nog een vraag? Stel dan een nieuwe vraag."


class QuestionTaken(ClbError):
    status = 409
    code = "question_taken"
    message = "Een collega beantwoordt deze vraag al."


@dataclass(frozen=True)
class Asked:
    """What the form sends; everything but the text is optional."""

    body: str
    who: str = ""
    age_band: str = ""
    topic: str = ""
    email: str = ""
    language: str = "nl"


def clean_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise InvalidQuestion("Schrijf je vraag.")
    if len(text) > BODY_MAX:
        raise InvalidQuestion("Je tekst is te lang. Schrijf hoogstens 4000 tekens.")
    return text


def clean_email(email: str) -> str | None:
    typed = email.strip()
    if not typed:
        return None
    if len(typed) > 254:
        raise InvalidQuestion(EMAIL_INVALID, field="email")
    try:
        return validate_email(typed, check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidQuestion(EMAIL_INVALID, field="email") from None


def _choice(value: str, allowed: type[Who] | type[AgeBand] | type[Topic], field: str) -> str | None:
    if not value:
        return None
    if value not in allowed.__members__:
        raise InvalidQuestion("Kies een van de mogelijkheden, of laat het leeg.", field=field)
    return value


def check(asked: Asked) -> dict[str, str]:
    """Field → Dutch message for every field that is not right (the page shows them all)."""
    errors: dict[str, str] = {}
    steps: list[tuple[str, Any]] = [
        ("body", lambda: clean_body(asked.body)),
        ("who", lambda: _choice(asked.who, Who, "who")),
        ("age_band", lambda: _choice(asked.age_band, AgeBand, "age_band")),
        ("topic", lambda: _choice(asked.topic, Topic, "topic")),
        ("email", lambda: clean_email(asked.email)),
    ]
    for field, step in steps:
        try:
            step()
        except InvalidQuestion as error:
            errors[field] = error.detail_message
    return errors


async def target(session: AsyncSession, services: Services, now: datetime) -> datetime:
    days = services.settings.question_answer_working_days
    today = now.date()
    closed = await repository.closed_days(session, today, today + timedelta(days=7 * days + 60))
    return codes.answer_target(now, days, closed)


async def _free_code(session: AsyncSession) -> tuple[str, str]:
    while True:
        code = codes.new_code()
        digest = codes.code_hash(code)
        assert digest is not None  # noqa: S101 - new_code only makes valid codes
        # 2^100 codes: a clash will not happen, but the column is unique, so look.
        if not await repository.token_hash_taken(session, digest):
            return code, digest


async def ask(
    session: AsyncSession, services: Services, asked: Asked, now: datetime
) -> tuple[Question, str]:
    """A new question and its pick-up code (shown once; only its hash is kept)."""
    errors = check(asked)
    if errors:
        field, message = next(iter(errors.items()))
        raise InvalidQuestion(message, field=field)
    code, digest = await _free_code(session)
    question = Question(
        id=uuid.uuid4(),
        token_hash=digest,
        who=asked.who or None,
        age_band=asked.age_band or None,
        topic=asked.topic or None,
        language=asked.language,
        email=clean_email(asked.email),
        last_seq=0,
        awaiting_answer=True,
        due_at=await target(session, services, now),
        created_at=now,
        last_activity_at=now,
    )
    session.add(question)
    await session.flush()
    await _append(session, question, Author.person, clean_body(asked.body), now)
    await _triage(session, services, question, asked.body, now)
    return question, code


async def by_code(session: AsyncSession, code: str) -> Question | None:
    """The question of a pick-up code; None for anything else (one neutral answer)."""
    digest = codes.code_hash(code)
    return None if digest is None else await repository.by_token_hash(session, digest)


async def _append(
    session: AsyncSession,
    question: Question,
    author: Author,
    body: str,
    now: datetime,
    staff: StaffAccount | None = None,
) -> QuestionMessage:
    seq = await repository.next_seq(session, question.id)
    if seq is None:
        raise QuestionClosed()
    message = QuestionMessage(
        question_id=question.id,
        seq=seq,
        author=author.value,
        staff_id=staff.id if staff else None,
        author_name=staff.display_name if staff else None,
        body=body,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    set_committed_value(question, "last_seq", seq)
    return message


async def reply(
    session: AsyncSession, services: Services, question: Question, body: str, now: datetime
) -> QuestionMessage:
    """The person writes again. A new target starts when no answer was pending."""
    text = clean_body(body)
    if question.closed_at is not None:
        raise QuestionClosed()
    message = await _append(session, question, Author.person, text, now)
    if not question.awaiting_answer:
        question.awaiting_answer = True
        question.due_at = await target(session, services, now)
    question.last_activity_at = now
    await _triage(session, services, question, text, now)
    await session.flush()
    return message


# --- Triage -------------------------------------------------------------------------------


async def _triage(
    session: AsyncSession, services: Services, question: Question, text: str, now: datetime
) -> None:
    matcher = await LexiconCache.of(services).matcher_for(session, services)
    hit = matcher.first(text)
    if hit is None or question.flagged_at is not None:
        return  # no term, or already marked and announced
    question.flagged_at = now
    question.flag_term = hit.term
    await session.flush()
    publish_after_commit(
        session, services, supervision_channel(services.keys), flag_alert(question, now)
    )


def flag_alert(question: Question, at: datetime) -> dict[str, Any]:
    """The alert a flagged chat raises (chat.triage.service.flag_alert), for a question:
    the term, never the text; ``url`` opens the question in the console."""
    return {
        "type": "flag",
        "conversation_id": str(question.id),
        "source": "question",
        "term": question.flag_term,
        "seq": None,
        "at": at.isoformat(),
        "nickname": f"Vraag {question.short_id}",
        "status": "waiting",
        "url": f"{CONSOLE_PATH}/{question.id}",
    }


# --- Counsellors --------------------------------------------------------------------------


def may_handle(staff: StaffAccount) -> bool:
    return staff.has_role(Role.counsellor) or staff.has_role(Role.coordinator)


async def claim(
    session: AsyncSession, staff: StaffAccount, question_id: uuid.UUID, now: datetime
) -> Question:
    """Take the question, so no colleague answers it too (one conditional UPDATE)."""
    claimed = await repository.claim(session, question_id, staff.id, now)
    if claimed is not None:
        return claimed
    found = await repository.get(session, question_id)
    if found is None:
        raise QuestionNotFound()
    if found.closed_at is not None:
        raise QuestionClosed()
    raise QuestionTaken()


async def release(session: AsyncSession, staff: StaffAccount, question_id: uuid.UUID) -> Question:
    """Give the question back to everyone: its holder, or a coordinator."""
    question = await repository.lock(session, question_id)
    if question is None:
        raise QuestionNotFound()
    if question.closed_at is not None:
        raise QuestionClosed()
    if question.claimed_by not in (None, staff.id) and not staff.has_role(Role.coordinator):
        raise QuestionTaken()
    question.claimed_by = None
    question.claimed_at = None
    await session.flush()
    return question


async def answer(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    question_id: uuid.UUID,
    body: str,
    now: datetime,
) -> QuestionMessage:
    """The counsellor answers (claiming the question if nobody has it); the person gets a
    notice by mail when they left an address."""
    text = clean_body(body)
    question = await claim(session, staff, question_id, now)
    message = await _append(session, question, Author.counsellor, text, now, staff)
    question.awaiting_answer = False
    question.last_activity_at = now
    await session.flush()
    if question.email:
        payload = {"question_id": str(question.id), "seq": message.seq}
        await schedule_jobs(session, services.jobs, [NewJob(ANSWER_NOTICE_JOB, payload)])
    return message


async def close(
    session: AsyncSession, staff: StaffAccount, question_id: uuid.UUID, now: datetime
) -> Question:
    """End the thread: its holder, anyone when nobody holds it, or a coordinator."""
    question = await repository.lock(session, question_id)
    if question is None:
        raise QuestionNotFound()
    if question.closed_at is not None:
        raise QuestionClosed()
    if question.claimed_by not in (None, staff.id) and not staff.has_role(Role.coordinator):
        raise QuestionTaken()
    question.closed_at = now
    question.closed_by = staff.id
    question.awaiting_answer = False
    await session.flush()
    return question


async def take_questions_past_target(
    session: AsyncSession, now: datetime
) -> list[repository.PastTarget]:
    """Open questions waiting for an answer past their target that counsellors were not told
    about yet (now marked as told), the oldest target first."""
    return await repository.take_past_target(session, now)
