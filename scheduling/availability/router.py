"""The counsellor sets when people can book them: weekly hours, date overrides, policy."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from babel.dates import get_day_names
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clb import i18n
from clb.auth.models import StaffAccount
from clb.web.deps import CurrentCounsellor, SessionDep
from clb.web.forms import form_text
from clb.web.security import CsrfProtected
from clb.web.templating import render
from scheduling.agenda.service import AgendaClock
from scheduling.agenda.view import long_day
from scheduling.availability import repository
from scheduling.availability import service as av
from scheduling.availability.closed_periods import period_view
from scheduling.availability.slots import local_day
from scheduling.form_state import BLANK, FormState, refused
from scheduling.labels import MODE_LABELS

router = APIRouter(include_in_schema=False)

PAGE = "/console/beschikbaarheid"
BLANK_ROWS = 3

ShortField = Annotated[str, Form(max_length=40)]
TextField = Annotated[str, Form(max_length=1000)]
ModesField = Annotated[list[str] | None, Form(max_length=10)]


def _weekday_names() -> list[str]:
    names = get_day_names("wide", locale=i18n.babel_locale())
    return [names[day].capitalize() for day in range(7)]


def _row(typed: av.PeriodInput) -> dict[str, Any]:
    return {
        "weekday": typed.weekday,
        "starts_at": typed.starts_at,
        "ends_at": typed.ends_at,
        "modes": list(typed.modes),
        "location": typed.location,
    }


async def _weekly_rows(
    session: AsyncSession, staff: StaffAccount, weekly_typed: list[av.PeriodInput] | None
) -> list[dict[str, Any]]:
    """The saved hours and some blank rows, or the rows of a refused form as typed."""
    if weekly_typed is None:
        saved = [
            av.PeriodInput(
                weekday=str(rule.weekday),
                starts_at=av.hhmm(rule.starts_at),
                ends_at=av.hhmm(rule.ends_at),
                modes=list(rule.modes),
                location=str(rule.location_id or ""),
            )
            for rule in await repository.weekly_rules(session, staff.id)
        ]
        weekly_typed = saved + [av.PeriodInput() for _ in range(BLANK_ROWS)]
    elif not weekly_typed or not weekly_typed[-1].blank:
        # A refused form keeps its rows in place (error ids name them by position).
        weekly_typed = [*weekly_typed, av.PeriodInput()]
    return [_row(typed) for typed in weekly_typed][: av.MAX_WEEKLY_ROWS]


async def _override_rows(
    session: AsyncSession, staff: StaffAccount, today: date, location_names: dict[str, str]
) -> list[dict[str, Any]]:
    return [
        {
            "id": row.id,
            "day": long_day(row.day),
            "unavailable": row.starts_at is None,
            "hours": f"{av.hhmm(row.starts_at)}–{av.hhmm(row.ends_at)}",
            "modes": list(row.modes),
            "location": location_names.get(str(row.location_id), ""),
            "note": row.note,
        }
        for row in await repository.upcoming_overrides(session, staff.id, today)
    ]


async def _closed_period_rows(
    session: AsyncSession, staff: StaffAccount, today: date
) -> list[dict[str, Any]]:
    periods = await repository.periods_for_centre(session, staff.centre_id, since=today)
    return [period_view(period) for period in periods]


async def _page(
    request: Request,
    session: AsyncSession,
    staff: StaffAccount,
    now: datetime,
    *,
    weekly_typed: list[av.PeriodInput] | None = None,
    form: FormState = BLANK,
) -> HTMLResponse:
    request.state.staff = staff
    today = local_day(now)
    locations = await repository.centre_locations(session, staff.centre_id)
    weekly_rows = await _weekly_rows(session, staff, weekly_typed)
    policy = await repository.ensure_policy(session, staff.id)
    values, errors = form.values, form.errors
    location_names = {str(location.id): location.name for location in locations}
    context: dict[str, Any] = {
        "weekday_names": _weekday_names(),
        "modes": {mode.value: label for mode, label in MODE_LABELS.items()},
        "locations": [{"id": str(loc.id), "name": loc.name} for loc in locations],
        "weekly_rows": weekly_rows,
        "overrides": await _override_rows(session, staff, today, location_names),
        "policy": {
            "notice": values.get("p-notice", str(policy.min_notice_working_days)),
            "horizon": values.get("p-horizon", str(policy.horizon_days)),
            "max": values.get("p-max", str(policy.max_per_day)),
        },
        "holidays": [
            {"day": long_day(day), "name": name} for day, name in av.upcoming_holidays(today)
        ],
        "closed_periods": await _closed_period_rows(session, staff, today),
        "today": today.isoformat(),
        **form.context(),
        "failed": {
            "week": any(key.startswith("w") for key in errors),
            "override": any(key.startswith("o-") for key in errors),
            "policy": any(key.startswith("p-") for key in errors),
        },
        "saved": request.query_params.get("bewaard", ""),
    }
    return render(request, "console_availability.html", context, status_code=form.status_code)


def _saved(what: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"{PAGE}?bewaard={what}#{anchor}", status_code=303)


@router.get(PAGE, response_class=HTMLResponse)
async def availability_page(
    request: Request, staff: CurrentCounsellor, session: SessionDep, now: AgendaClock
) -> HTMLResponse:
    return await _page(request, session, staff, now)


@router.post(f"{PAGE}/weekschema")
async def save_weekly(
    request: Request,
    staff: CurrentCounsellor,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: AgendaClock,
) -> Response:
    form = await request.form()
    try:
        count = min(int(str(form.get("rows", "0"))), av.MAX_WEEKLY_ROWS)
    except ValueError:
        count = 0
    typed = [
        av.PeriodInput(
            weekday=form_text(form, f"weekday_{i}", 2),
            starts_at=form_text(form, f"starts_at_{i}", 20),
            ends_at=form_text(form, f"ends_at_{i}", 20),
            modes=[str(mode)[:10] for mode in form.getlist(f"modes_{i}")][: len(av.MODES)],
            location=form_text(form, f"location_{i}", 40),
        )
        for i in range(count)
    ]
    locations = {loc.id for loc in await repository.centre_locations(session, staff.centre_id)}
    hours, errors = av.parse_weekly(typed, locations)
    if errors:
        # Keep the rows where they were typed, blanks included, so error ids still match.
        return await _page(request, session, staff, now, weekly_typed=typed, form=refused(errors))
    await av.replace_weekly(session, staff.id, hours)
    return _saved("weekschema", "week-title")


@router.post(f"{PAGE}/uitzonderingen")
async def add_override(
    request: Request,
    staff: CurrentCounsellor,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: AgendaClock,
    day: ShortField = "",
    kind: ShortField = "uren",
    starts_at: ShortField = "",
    ends_at: ShortField = "",
    modes: ModesField = None,
    location: ShortField = "",
    note: TextField = "",
) -> Response:
    typed = av.OverrideInput(
        day=day,
        unavailable=kind == "afwezig",
        period=av.PeriodInput(
            starts_at=starts_at, ends_at=ends_at, modes=modes or [], location=location
        ),
        note=note,
    )
    locations = {loc.id for loc in await repository.centre_locations(session, staff.centre_id)}
    hours, cleaned_note, errors = av.parse_override(typed, locations, local_day(now))
    if hours is not None:
        errors = await av.add_override(session, staff.id, hours, cleaned_note)
    if errors:
        values = {
            "o-day": day,
            "o-kind": "afwezig" if typed.unavailable else "uren",
            "o-starts_at": starts_at,
            "o-ends_at": ends_at,
            "o-modes": modes or [],
            "o-location": location,
            "o-note": note,
        }
        return await _page(request, session, staff, now, form=refused(errors, values))
    return _saved("uitzondering", "overrides-title")


@router.post(f"{PAGE}/uitzonderingen/{{override_id}}/verwijderen")
async def delete_override(
    staff: CurrentCounsellor, _csrf: CsrfProtected, session: SessionDep, override_id: int
) -> Response:
    await av.delete_override(session, staff.id, override_id)
    return _saved("verwijderd", "overrides-title")


@router.post(f"{PAGE}/regels")
async def save_policy(
    request: Request,
    staff: CurrentCounsellor,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: AgendaClock,
    notice: ShortField = "",
    horizon: ShortField = "",
    max_per_day: ShortField = "",
) -> Response:
    values, errors = av.parse_policy(notice, horizon, max_per_day)
    if values is None:
        typed = {
            "p-notice": notice,
            "p-horizon": horizon,
            "p-max": max_per_day,
        }
        return await _page(request, session, staff, now, form=refused(errors, typed))
    await av.save_policy(session, staff.id, values)
    return _saved("regels", "policy-title")
