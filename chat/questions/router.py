"""Public pages of "Stel je vraag" (no JavaScript needed, no account).

``/vraag`` asks; the answer is a pick-up code shown once and a link ``/vraag/<code>``. The
code (in a link or typed on ``/vraag/ophalen``) is exchanged at once for an HttpOnly
cookie that only ``/vraag…`` pages receive, so it leaves the address bar; the thread lives
at ``/vraag/gesprek``. Every code look-up is counted per client (a salted, daily hash of
the address), so guessing codes is hopeless twice over (100 bits, a few tries an hour).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from babel.dates import format_date, format_datetime
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chat.labels import AGE_BAND_LABELS, TOPIC_LABELS, WHO_LABELS
from chat.opening_hours.schedule import BRUSSELS
from chat.questions import service
from chat.questions.codes import MAX_TYPED
from chat.questions.models import BODY_MAX, Author, Question
from chat.questions.repository import messages as thread_messages
from clb import i18n
from clb.config import Settings
from clb.db import utcnow
from clb.errors import ClbError, RateLimited
from clb.ratelimit import Rate
from clb.services import Services
from clb.web.deps import ServicesDep, SessionDep
from clb.web.security import CsrfProtected, ip_hash
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

ASK_PATH = "/vraag"
PICK_UP_PATH = "/vraag/ophalen"
THREAD_PATH = "/vraag/gesprek"
COOKIE = "clb_vraag"
COOKIE_MINUTES = 60
NEW_SUFFIX = "_nieuw"
NEW_MARK_SECONDS = 300
TEXT_LIMIT = BODY_MAX + 2000  # longer input is cut; the check then says it is too long
# What a form field takes at all: a pasted essay still gets the form back with "te lang"
# next to the field and its start kept, not an error page that loses it.
FIELD_LIMIT = 100_000


class UnknownCode(ClbError):
    status = 404
    code = "unknown_code"
    message = "Deze code kennen we niet. Kijk ze na, of stel een nieuwe vraag."


class NoCode(ClbError):
    status = 422
    code = "no_code"
    message = "Typ je code. Ze ziet eruit zoals ABCD-EF12-GH34-JK56-MN78."


UNKNOWN_CODE = UnknownCode.message
NO_CODE = NoCode.message

Text = Annotated[str, Form(max_length=FIELD_LIMIT)]
Short = Annotated[str, Form(max_length=300)]


# --- The cookie ------------------------------------------------------------------------------


def cookie_name(settings: Settings) -> str:
    return f"__Secure-{COOKIE}" if settings.secure_cookies else COOKIE


def _keep_code(response: Response, settings: Settings, code: str) -> None:
    response.set_cookie(
        cookie_name(settings),
        code,
        max_age=COOKIE_MINUTES * 60,
        path=ASK_PATH,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def _show_code_once(response: Response, settings: Settings) -> None:
    """Mark the next thread page as the one that shows the new code; that page takes the
    mark away, so a reload or the browser's history never shows the code again."""
    response.set_cookie(
        cookie_name(settings) + NEW_SUFFIX,
        "1",
        max_age=NEW_MARK_SECONDS,
        path=THREAD_PATH,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def _forget_code(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        cookie_name(settings), path=ASK_PATH, httponly=True, secure=settings.secure_cookies
    )


async def _limit(services: Services, request: Request, scope: str, per_hour: int) -> None:
    decision = await services.limiter.hit(f"{scope}:{ip_hash(request)}", Rate(per_hour, 3600))
    if not decision.allowed:
        raise RateLimited(max(1, round(decision.retry_after)))


# --- Asking ----------------------------------------------------------------------------------


def _form_context(values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    order = ("body", "who", "age_band", "topic", "email")
    return {
        "question_values": values,
        "question_errors": errors,
        "question_error_list": [(f, errors[f]) for f in order if f in errors],
        "who_labels": WHO_LABELS,
        "age_band_labels": AGE_BAND_LABELS,
        "topic_labels": TOPIC_LABELS,
        "body_max": BODY_MAX,
    }


def _form_page(
    request: Request,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    context = _form_context(values or {}, errors or {})
    context["retention_days"] = request.app.state.settings.chat_retention_days
    return render(request, "question.html", context, status_code=status_code, headers=headers)


@router.get(ASK_PATH, response_class=HTMLResponse)
async def ask_form(request: Request) -> HTMLResponse:
    return _form_page(request)


@router.post(ASK_PATH, response_class=HTMLResponse)
async def ask(
    request: Request,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    body: Text = "",
    who: Short = "",
    age_band: Short = "",
    topic: Short = "",
    email: Short = "",
) -> Response:
    body = body[:TEXT_LIMIT]
    values = {"body": body, "who": who, "age_band": age_band, "topic": topic, "email": email}
    asked = service.Asked(body, who, age_band, topic, email, i18n.current_language())
    errors = service.check(asked)
    if errors:
        return _form_page(request, values, errors, 422)
    try:
        await _limit(services, request, "question-ask", services.settings.question_asks_per_hour)
    except RateLimited as limited:
        errors = {"": limited.detail_message}
        return _form_page(request, values, errors, 429, limited.headers)
    _question, code = await service.ask(session, services, asked, utcnow())
    response = RedirectResponse(f"{THREAD_PATH}?nieuw=1", status_code=303)
    _keep_code(response, services.settings, code)
    _show_code_once(response, services.settings)
    return response


# --- Picking up --------------------------------------------------------------------------------


def _pick_up_page(
    request: Request,
    error: str = "",
    code: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {"pick_up_error": error, "pick_up_code": code, "current_path": PICK_UP_PATH}
    response = render(
        request, "question_pickup.html", context, status_code=status_code, headers=headers
    )
    if error and cookie_name(request.app.state.settings) in request.cookies:
        _forget_code(response, request.app.state.settings)
    return response


async def _open(request: Request, services: Services, session: AsyncSession, code: str) -> Response:
    """Look the code up (counted), and on success exchange it for the cookie."""
    if not code.strip():
        return _pick_up_page(request, NO_CODE, status_code=422)
    try:
        await _limit(
            services, request, "question-code", services.settings.question_lookups_per_hour
        )
    except RateLimited as limited:
        return _pick_up_page(request, limited.detail_message, "", 429, limited.headers)
    question = await service.by_code(session, code)
    if question is None:
        return _pick_up_page(request, UNKNOWN_CODE, code[:MAX_TYPED], 404)
    response = RedirectResponse(THREAD_PATH, status_code=303)
    _keep_code(response, services.settings, code)
    return response


@router.get(PICK_UP_PATH, response_class=HTMLResponse)
async def pick_up_form(request: Request) -> HTMLResponse:
    return _pick_up_page(request)


@router.post(PICK_UP_PATH, response_class=HTMLResponse)
async def pick_up(
    request: Request,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    code: Short = "",
) -> Response:
    return await _open(request, services, session, code)


# --- The thread --------------------------------------------------------------------------------


def answer_by(due_at: datetime) -> str:
    """The target's weekday and date as the person reads it, in their language."""
    return format_date(due_at.astimezone(BRUSSELS), "EEEE d MMMM", locale=i18n.babel_locale())


def _moment(at: datetime) -> str:
    return format_datetime(at.astimezone(BRUSSELS), "d MMMM, HH:mm", locale=i18n.babel_locale())


async def _thread_context(
    session: AsyncSession, question: Question, code: str, new: bool
) -> dict[str, Any]:
    rows = await thread_messages(session, question.id)
    return {
        "question": question,
        "thread": [
            {
                "seq": row.seq,
                "own": row.author == Author.person.value,
                "name": row.author_name or "",
                "body": row.body,
                "at": _moment(row.created_at),
            }
            for row in rows
        ],
        "answer_by": answer_by(question.due_at) if question.awaiting_answer else "",
        "show_code": code if new else "",
        "code_link": f"{ASK_PATH}/{code}" if new else "",
        "flagged": question.flagged_at is not None,
        "body_max": BODY_MAX,
        "current_path": THREAD_PATH,
    }


async def _from_cookie(request: Request, session: AsyncSession) -> tuple[Question | None, str]:
    """The question of this browser's cookie. A cookie that opens nothing counts as a code
    look-up, so guessing through the cookie is limited as through the link."""
    code = request.cookies.get(cookie_name(request.app.state.settings), "")
    question = await service.by_code(session, code) if code else None
    if code and question is None:
        services: Services = request.app.state.services
        await _limit(
            services, request, "question-code", services.settings.question_lookups_per_hour
        )
    return question, code


@router.get(THREAD_PATH, response_class=HTMLResponse)
async def thread(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    question, code = await _from_cookie(request, session)
    if question is None:
        if not code:
            return RedirectResponse(PICK_UP_PATH, status_code=303)
        return _pick_up_page(request, UNKNOWN_CODE, status_code=404)
    settings = services.settings
    mark = cookie_name(settings) + NEW_SUFFIX
    new = request.query_params.get("nieuw") == "1" and mark in request.cookies
    context = await _thread_context(session, question, code, new)
    context["code_link"] = settings.public_url + context["code_link"] if new else ""
    context["sent"] = request.query_params.get("verstuurd") == "1"
    response = render(request, "question_thread.html", context)
    if new:
        secure = settings.secure_cookies
        response.delete_cookie(mark, path=THREAD_PATH, httponly=True, secure=secure)
        # Not kept by the browser either: "back" must not bring the code back.
        response.headers["Cache-Control"] = "no-store"
    return response


@router.post(THREAD_PATH, response_class=HTMLResponse)
async def reply(
    request: Request,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    body: Text = "",
) -> Response:
    question, code = await _from_cookie(request, session)
    if question is None:
        return _pick_up_page(request, UNKNOWN_CODE, status_code=404)
    body = body[:TEXT_LIMIT]
    error, status, headers = "", 422, None
    try:
        await _limit(services, request, "question-reply", services.settings.question_asks_per_hour)
        await service.reply(session, services, question, body, utcnow())
    except RateLimited as limited:
        error, status, headers = limited.detail_message, 429, limited.headers
    except (service.InvalidQuestion, service.QuestionClosed) as refused:
        error, status = refused.detail_message, refused.status
    if not error:
        return RedirectResponse(f"{THREAD_PATH}?verstuurd=1#reply-title", status_code=303)
    context = await _thread_context(session, question, code, False)
    context.update({"reply_error": error, "reply_value": body})
    return render(request, "question_thread.html", context, status_code=status, headers=headers)


@router.get(ASK_PATH + "/{code}", response_class=HTMLResponse)
async def open_link(
    request: Request, code: str, services: ServicesDep, session: SessionDep
) -> Response:
    return await _open(request, services, session, code)
