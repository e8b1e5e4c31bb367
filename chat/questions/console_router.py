"""The counsellors' side of "Stel je vraag" (``/console/vragen``): the open questions
(flagged first, then by answer target), one question's thread, and claim, answer, release
and close. For counsellors and coordinators; the steps are chat.questions.service's.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from babel.dates import format_datetime
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chat.labels import AGE_BAND_LABELS, TOPIC_LABELS, WHO_LABELS
from chat.opening_hours.schedule import BRUSSELS
from chat.questions import repository, service
from chat.questions.models import BODY_MAX, Author, Question
from clb import i18n
from clb.auth.models import Role, StaffAccount
from clb.db import rollback, utcnow
from clb.errors import ClbError, Forbidden
from clb.web.deps import CurrentStaff, ServicesDep, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

LIST = service.CONSOLE_PATH
DETAIL = LIST + "/{question_id}"
Text = Annotated[str, Form(max_length=BODY_MAX + 2000)]
# The chat's intake labels by their stored value (Dutch; the template translates them).
WHO = {str(key): label for key, label in WHO_LABELS.items()}
AGE_BAND = {str(key): label for key, label in AGE_BAND_LABELS.items()}
TOPIC = {str(key): label for key, label in TOPIC_LABELS.items()}


async def question_staff(request: Request, staff: CurrentStaff) -> StaffAccount:
    if not service.may_handle(staff):
        raise Forbidden()
    request.state.staff = staff
    return staff


QuestionStaff = Annotated[StaffAccount, Depends(question_staff)]


def _moment(at: datetime) -> str:
    return format_datetime(at.astimezone(BRUSSELS), "EEE d MMM, HH:mm", locale=i18n.babel_locale())


def _time_left(question: Question, now: datetime) -> tuple[str, bool]:
    """How long until (or past) the target, in words, and whether it is past."""
    seconds = int((question.due_at - now).total_seconds())
    hours = abs(seconds) // 3600
    span = (
        i18n.gettext("{n} dagen").format(n=hours // 24)
        if hours >= 48
        else i18n.gettext("{n} uur").format(n=max(hours, 0))
    )
    if seconds < 0:
        return i18n.gettext("{span} over de termijn").format(span=span), True
    return i18n.gettext("nog {span}").format(span=span), False


def _row(question: Question, names: dict[uuid.UUID, str], now: datetime) -> dict[str, Any]:
    left, late = _time_left(question, now)
    return {
        "id": str(question.id),
        "url": f"{LIST}/{question.id}",
        "name": question.short_id,
        "flagged": question.flagged_at is not None,
        "term": question.flag_term or "",
        "awaiting": question.awaiting_answer,
        "due": _moment(question.due_at),
        "left": left if question.awaiting_answer else "",
        "late": late and question.awaiting_answer,
        "asked": _moment(question.created_at),
        "topic": TOPIC.get(question.topic or "", ""),
        "holder": names.get(question.claimed_by) if question.claimed_by else None,
    }


@router.get(LIST, response_class=HTMLResponse)
async def question_list(
    request: Request, staff: QuestionStaff, session: SessionDep
) -> HTMLResponse:
    now = utcnow()
    found = await repository.open_questions(session)
    names = await repository.staff_names(session, {q.claimed_by for q in found if q.claimed_by})
    rows = [_row(q, names, now) for q in found]
    context = {
        "question_rows": rows,
        "late_count": sum(1 for row in rows if row["late"]),
        "flagged_count": sum(1 for row in rows if row["flagged"]),
    }
    return render(request, "console_questions.html", context)


async def _detail(
    request: Request,
    session: AsyncSession,
    staff: StaffAccount,
    question_id: uuid.UUID,
    *,
    error: str = "",
    answer_value: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    question = await repository.get(session, question_id)
    if question is None:
        raise service.QuestionNotFound()
    now = utcnow()
    holders = {question.claimed_by} if question.claimed_by else set()
    names = await repository.staff_names(session, holders)
    rows = await repository.messages(session, question.id)
    context = {
        "q": _row(question, names, now),
        "q_open": question.is_open,
        "q_mine": question.claimed_by == staff.id,
        "q_free": question.claimed_by is None,
        "q_coordinator": staff.has_role(Role.coordinator),
        "q_intake": [
            label
            for value, labels in (
                (question.who, WHO),
                (question.age_band, AGE_BAND),
                (question.topic, TOPIC),
            )
            if value and (label := labels.get(value))
        ],
        "q_email": bool(question.email),
        "q_thread": [
            {
                "own": row.author == Author.counsellor.value,
                "name": row.author_name or "",
                "body": row.body,
                "at": _moment(row.created_at),
            }
            for row in rows
        ],
        "q_error": error,
        "q_answer": answer_value,
        "q_done": request.query_params.get("bewaard", ""),
        "body_max": BODY_MAX,
    }
    return render(request, "console_question.html", context, status_code=status_code)


@router.get(DETAIL, response_class=HTMLResponse)
async def question_page(
    request: Request, staff: QuestionStaff, session: SessionDep, question_id: uuid.UUID
) -> HTMLResponse:
    return await _detail(request, session, staff, question_id)


def _done(question_id: uuid.UUID, what: str) -> RedirectResponse:
    return RedirectResponse(f"{LIST}/{question_id}?bewaard={what}", status_code=303)


async def _refused(
    request: Request,
    session: AsyncSession,
    staff: StaffAccount,
    question_id: uuid.UUID,
    error: ClbError,
    answer_value: str = "",
) -> HTMLResponse:
    if isinstance(error, service.QuestionNotFound):
        raise error
    await rollback(session)
    await session.refresh(staff)
    return await _detail(
        request,
        session,
        staff,
        question_id,
        error=error.detail_message,
        answer_value=answer_value,
        status_code=error.status,
    )


@router.post(DETAIL + "/nemen")
async def claim(
    request: Request,
    staff: QuestionStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    question_id: uuid.UUID,
) -> Response:
    try:
        await service.claim(session, staff, question_id, utcnow())
    except (service.QuestionClosed, service.QuestionTaken, service.QuestionNotFound) as error:
        return await _refused(request, session, staff, question_id, error)
    return _done(question_id, "genomen")


@router.post(DETAIL + "/antwoorden")
async def answer(
    request: Request,
    staff: QuestionStaff,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    question_id: uuid.UUID,
    body: Text = "",
) -> Response:
    try:
        await service.answer(session, services, staff, question_id, body, utcnow())
    except (
        service.InvalidQuestion,
        service.QuestionClosed,
        service.QuestionTaken,
        service.QuestionNotFound,
    ) as error:
        return await _refused(request, session, staff, question_id, error, body)
    return _done(question_id, "beantwoord")


@router.post(DETAIL + "/vrijgeven")
async def release(
    request: Request,
    staff: QuestionStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    question_id: uuid.UUID,
) -> Response:
    try:
        await service.release(session, staff, question_id)
    except (service.QuestionClosed, service.QuestionTaken, service.QuestionNotFound) as error:
        return await _refused(request, session, staff, question_id, error)
    return _done(question_id, "vrijgegeven")


@router.post(DETAIL + "/afsluiten")
async def close(
    request: Request,
    staff: QuestionStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    question_id: uuid.UUID,
) -> Response:
    try:
        await service.close(session, staff, question_id, utcnow())
    except (service.QuestionClosed, service.QuestionTaken, service.QuestionNotFound) as error:
        return await _refused(request, session, staff, question_id, error)
    return _done(question_id, "afgesloten")
