"""Coordinators set the chat's opening hours; the chat page asks whether it is open."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any

from babel.dates import format_date, get_day_names
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours import repository, service
from chat.opening_hours import schedule as oh
from chat.opening_hours.models import OpeningException, WeeklyOpeningPeriod
from chat.opening_hours.schedule import ChatClock, InvalidOpeningHours, OpeningStatus, Period
from clb import i18n
from clb.auth.models import StaffAccount
from clb.errors import NotFound
from clb.i18n import gettext as _
from clb.web import forms
from clb.web.deps import CurrentCoordinator, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE = "/console/openingsuren"
SLOTS = 3  # empty from/to rows shown per weekday, besides the ones in use
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.hu]([0-5]\d)(?::[0-5]\d)?$")

TimeField = Annotated[str, Form(max_length=20)]
DayField = Annotated[str, Form(max_length=20)]
NoteField = Annotated[str, Form(max_length=2000)]


@dataclass(frozen=True)
class ScheduleEdit:
    """A coordinator's change to the schedule: signed in, the form's CSRF token checked, and
    what every such form needs to answer (the page again, or a redirect)."""

    request: Request
    staff: StaffAccount
    session: AsyncSession
    now: datetime


async def _schedule_edit(
    request: Request,
    staff: CurrentCoordinator,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: ChatClock,
) -> ScheduleEdit:
    return ScheduleEdit(request, staff, session, now)


ScheduleEditDep = Annotated[ScheduleEdit, Depends(_schedule_edit)]


def intake_stop_minutes(request: Request) -> int:
    return int(getattr(request.app.state.settings, "chat_intake_stop_minutes", 15))


def parse_time(value: str, field: str) -> time:
    if not value.strip():
        raise InvalidOpeningHours("Vul een begin- en een einduur in.", field=field)
    match = _TIME.match(value.strip().lower())
    if not match:
        raise InvalidOpeningHours("Vul een geldig uur in, bijvoorbeeld 17:00.", field=field)
    return time(int(match.group(1)), int(match.group(2)))


def parse_day(value: str) -> date:
    errors: dict[str, str] = {}
    day = forms.parse_day(value, "day", errors)
    if day is None:
        # Already in the reader's language; translating it again (_failed) leaves it as is.
        raise InvalidOpeningHours(errors["day"], field="day")
    return day


def _day_label(day: date) -> str:
    return format_date(day, "EEEE d MMMM y", locale=i18n.babel_locale())


def _clock(moment: datetime | None) -> str:
    return moment.astimezone(oh.BRUSSELS).strftime("%H:%M") if moment else ""


def _hhmm(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""


@dataclass
class WeekdayForm:
    weekday: int
    name: str
    summary: list[str]
    slots: list[tuple[str, str]]
    error: str = ""
    error_field: str = ""


def _weekday_forms(
    weekly: list[WeeklyOpeningPeriod],
    typed_weekday: tuple[int, list[tuple[str, str]]] | None,
    errors: dict[str, str],
) -> list[WeekdayForm]:
    """Each weekday's periods as form rows, with a few empty ones to add more; the weekday
    just refused shows what was typed, with its error."""
    names = get_day_names("wide", locale=i18n.babel_locale())
    days: list[WeekdayForm] = []
    for weekday in range(7):
        periods = [(_hhmm(r.opens_at), _hhmm(r.closes_at)) for r in weekly if r.weekday == weekday]
        slots = periods
        if typed_weekday and typed_weekday[0] == weekday:
            slots = [s for s in typed_weekday[1] if s != ("", "")]
        slots = slots + [("", "")] * max(SLOTS - len(slots), 1)
        days.append(
            WeekdayForm(
                weekday=weekday,
                name=names[weekday].capitalize(),
                summary=[f"{o}–{c}" for o, c in periods],
                slots=slots[: oh.MAX_PERIODS_PER_DAY],
            )
        )
    if "weekday" in errors and typed_weekday:
        days[typed_weekday[0]].error = errors["weekday"]
        days[typed_weekday[0]].error_field = errors.get("weekday_field", "")
    return days


def _exception_rows(exceptions: list[OpeningException]) -> list[dict[str, Any]]:
    return [
        {
            "id": row.id,
            "day": _day_label(row.day),
            "closed": row.is_closed,
            "hours": f"{_hhmm(row.opens_at)}–{_hhmm(row.closes_at)}",
            "note": row.note or "",
        }
        for row in exceptions
    ]


def _opening_summary(status: OpeningStatus, today: date) -> dict[str, Any]:
    next_opening = status.next_opening.astimezone(oh.BRUSSELS) if status.next_opening else None
    return {
        "open": status.open,
        "intake_open": status.intake_open,
        "closes_at": _clock(status.closes_at),
        "intake_closes_at": _clock(status.intake_closes_at),
        "next_opening": next_opening is not None,
        "next_is_today": next_opening is not None and next_opening.date() == today,
        "next_day": _day_label(next_opening.date()) if next_opening else "",
        "next_time": _clock(next_opening),
    }


async def _page(
    request: Request,
    session: AsyncSession,
    now: datetime,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    typed_weekday: tuple[int, list[tuple[str, str]]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    today = oh.local_date(now)
    weekly = await repository.list_weekly_periods(session)
    exceptions = await repository.list_exceptions(session, since=today)
    status = (await service.load_schedule(session, now)).status(now, intake_stop_minutes(request))
    errors = errors or {}
    context: dict[str, Any] = {
        "weekdays": _weekday_forms(weekly, typed_weekday, errors),
        "exceptions": _exception_rows(exceptions),
        "opening": _opening_summary(status, today),
        "intake_stop_minutes": intake_stop_minutes(request),
        "today": today.isoformat(),
        "form_errors": errors,
        "form_values": values or {},
        "saved": request.query_params.get("bewaard") == "1",
    }
    return render(request, "console_opening_hours.html", context, status_code=status_code)


def _saved() -> RedirectResponse:
    # The fragment brings the confirmation into view (the form posted may be far down).
    return RedirectResponse(f"{PAGE}?bewaard=1#main", status_code=303)


def _failed(form: str, exc: InvalidOpeningHours) -> dict[str, str]:
    return {form: _(exc.detail_message), f"{form}_field": exc.field or ""}


async def _add_exception(
    edit: ScheduleEdit,
    form: str,
    day: str,
    times: tuple[str, str] | None,
    note: str,
    values: dict[str, str],
) -> Response:
    """A closed day (no ``times``) or an extra opening; refused, the page again with the
    form's ``values`` and what was wrong."""
    try:
        parsed_day = parse_day(day)
        period = (
            Period(parse_time(times[0], "opens_at"), parse_time(times[1], "closes_at"))
            if times
            else None
        )
        today = oh.local_date(edit.now)
        await service.add_exception(
            edit.session, parsed_day, period, note=note, today=today, actor_id=edit.staff.id
        )
    except InvalidOpeningHours as exc:
        errors = _failed(form, exc)
        return await _page(
            edit.request, edit.session, edit.now, errors=errors, values=values, status_code=422
        )
    return _saved()


@router.get(PAGE, response_class=HTMLResponse)
async def opening_hours_page(
    request: Request, staff: CurrentCoordinator, session: SessionDep, now: ChatClock
) -> HTMLResponse:
    request.state.staff = staff
    return await _page(request, session, now)


@router.post(f"{PAGE}/gesloten-dag")
async def add_closed_day(
    edit: ScheduleEditDep, day: DayField = "", note: NoteField = ""
) -> Response:
    edit.request.state.staff = edit.staff
    values = {"closed_day": day, "closed_note": note}
    return await _add_exception(edit, "closed", day, None, note, values)


@router.post(f"{PAGE}/extra-opening")
async def add_extra_opening(
    edit: ScheduleEditDep,
    day: DayField = "",
    opens_at: TimeField = "",
    closes_at: TimeField = "",
    note: NoteField = "",
) -> Response:
    edit.request.state.staff = edit.staff
    values = {
        "extra_day": day,
        "extra_opens_at": opens_at,
        "extra_closes_at": closes_at,
        "extra_note": note,
    }
    times = (opens_at, closes_at)
    return await _add_exception(edit, "extra", day, times, note, values)


@router.post(f"{PAGE}/uitzonderingen/{{exception_id}}/verwijderen")
async def delete_exception(
    staff: CurrentCoordinator, _csrf: CsrfProtected, session: SessionDep, exception_id: int
) -> Response:
    await service.delete_exception(session, exception_id, actor_id=staff.id)
    return _saved()


@router.post(f"{PAGE}/weekdagen/{{weekday}}")
async def set_weekday(
    request: Request,
    staff: CurrentCoordinator,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: ChatClock,
    weekday: int,
    opens_at: Annotated[list[str] | None, Form(max_length=20)] = None,
    closes_at: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:
    request.state.staff = staff
    if not 0 <= weekday <= 6:
        raise NotFound()
    opens, closes = opens_at or [], closes_at or []
    length = max(len(opens), len(closes))
    typed = [
        (
            (opens[i] if i < len(opens) else "").strip(),
            (closes[i] if i < len(closes) else "").strip(),
        )
        for i in range(length)
    ]
    try:
        periods = [
            Period(parse_time(o, "opens_at"), parse_time(c, "closes_at"))
            for o, c in typed
            if o or c
        ]
        await service.replace_weekday_periods(session, weekday, periods, actor_id=staff.id)
    except InvalidOpeningHours as exc:
        return await _page(
            request,
            session,
            now,
            errors=_failed("weekday", exc),
            typed_weekday=(weekday, typed),
            status_code=422,
        )
    return _saved()


# --- Public status for the chat page --------------------------------------------------------


class WeeklyPeriodOut(BaseModel):
    weekday: int  # 0 = Monday
    opens_at: str  # "HH:MM", Europe/Brussels
    closes_at: str


class ExceptionOut(BaseModel):
    date: date
    closed: bool
    opens_at: str | None
    closes_at: str | None
    note: str | None


class OpeningHoursOut(BaseModel):
    open: bool
    intake_open: bool
    closes_at: datetime | None
    intake_closes_at: datetime | None
    next_opening: datetime | None
    intake_stop_minutes: int
    timezone: str
    weekly: list[WeeklyPeriodOut]
    exceptions: list[ExceptionOut]


@router.get("/api/chat/opening-hours")
async def opening_hours_status(
    request: Request, response: Response, session: SessionDep, now: ChatClock
) -> OpeningHoursOut:
    """Is the chat open, may a new chat start, when does it close or open again."""
    stop = intake_stop_minutes(request)
    today = oh.local_date(now)
    weekly, exceptions = await service.schedule_rows(session, today)
    status = oh.build_schedule(weekly, exceptions).status(now, stop)
    if getattr(request.app.state.settings, "chat_always_open", False):
        status = oh.OpeningStatus(True, True, None, None, status.next_opening)
    response.headers["Cache-Control"] = "no-store"
    return OpeningHoursOut(
        open=status.open,
        intake_open=status.intake_open,
        closes_at=status.closes_at,
        intake_closes_at=status.intake_closes_at,
        next_opening=status.next_opening,
        intake_stop_minutes=stop,
        timezone="Europe/Brussels",
        weekly=[
            WeeklyPeriodOut(
                weekday=row.weekday, opens_at=_hhmm(row.opens_at), closes_at=_hhmm(row.closes_at)
            )
            for row in weekly
        ],
        exceptions=[
            ExceptionOut(
                date=row.day,
                closed=row.is_closed,
                opens_at=_hhmm(row.opens_at) or None,
                closes_at=_hhmm(row.closes_at) or None,
                note=row.note,
            )
            for row in exceptions
            if row.day >= today
        ],
    )
