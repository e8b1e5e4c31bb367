"""``/console/meldingen``: my notifications (newest first, unread marked), opening one
(marks it read and goes to its page), "alles gelezen", the unread count for the header,
and ``/instellingen``: per kind, in the console and by mail, and the mails' language."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from clb import i18n
from clb.errors import NotFound
from clb.i18n import gettext as _
from clb.notifications import service
from clb.notifications.kinds import Kind, describe, kind_label
from clb.notifications.models import StaffNotification
from clb.web.deps import CurrentStaff, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE = "/console/meldingen"
SETTINGS = f"{PAGE}/instellingen"
LARGEST_ID = 2**63 - 1


def _line(notification: StaffNotification) -> dict[str, Any]:
    try:
        kind = Kind(notification.kind)
    except ValueError:  # a kind since removed: its row stays readable
        return {"id": notification.id, "title": notification.kind, "text": "", "unread": False}
    params = {str(k): str(v) for k, v in notification.params.items()}
    return {
        "id": notification.id,
        "title": kind_label(kind),
        "text": describe(kind, params),
        "created_at": notification.created_at,
        "unread": notification.read_at is None,
    }


@router.get(PAGE, response_class=HTMLResponse)
async def notifications_page(
    request: Request, staff: CurrentStaff, session: SessionDep
) -> HTMLResponse:
    request.state.staff = staff
    found = await service.latest(session, staff.id)
    lines = [_line(n) for n in found]
    context = {
        "notification_lines": lines,
        "notification_unread": sum(1 for line in lines if line["unread"]),
        "notification_done": _("Alles is gelezen.") if request.query_params.get("ok") else None,
    }
    return render(request, "console_notifications.html", context)


@router.get(f"{PAGE}/aantal")
async def unread_count(staff: CurrentStaff, session: SessionDep) -> JSONResponse:
    """The header's count (frontend/static/js/notification-count.js asks it now and then)."""
    count = await service.unread_count(session, staff.id)
    return JSONResponse({"unread": count}, headers={"Cache-Control": "no-store"})


@router.post(f"{PAGE}/gelezen")
async def mark_all_read(staff: CurrentStaff, _csrf: CsrfProtected, session: SessionDep) -> Response:
    await service.mark_all_read(session, staff.id)
    return RedirectResponse(f"{PAGE}?ok=gelezen", status_code=303)


def _settings_context(
    settings: service.Settings, errors: dict[str, str], done: bool
) -> dict[str, Any]:
    return {
        "notification_kinds": [
            {"value": kind.value, "label": kind_label(kind), "choice": settings.choices[kind]}
            for kind in Kind
        ],
        "notification_language": settings.language,
        "notification_languages": {c: i18n.LANGUAGE_NAMES[c] for c in i18n.STAFF_LANGUAGES},
        "notification_errors": errors,
        "notification_saved": done,
    }


@router.get(SETTINGS, response_class=HTMLResponse)
async def settings_page(request: Request, staff: CurrentStaff, session: SessionDep) -> HTMLResponse:
    request.state.staff = staff
    settings = await service.settings_of(session, staff.id)
    done = request.query_params.get("ok") == "bewaard"
    context = _settings_context(settings, {}, done)
    return render(request, "console_notifications_settings.html", context)


@router.post(SETTINGS)
async def save_settings(
    request: Request, staff: CurrentStaff, _csrf: CsrfProtected, session: SessionDep
) -> Response:
    request.state.staff = staff
    form = await request.form()
    fields: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key != "csrf_token":
            fields.setdefault(key, []).append(value)
    settings, errors = service.parse_settings(fields)
    if errors:
        context = _settings_context(settings, errors, False)
        return render(request, "console_notifications_settings.html", context, status_code=422)
    await service.save_settings(session, staff.id, settings)
    return RedirectResponse(f"{SETTINGS}?ok=bewaard", status_code=303)


@router.get(PAGE + "/{notification_id:int}")
async def open_notification(
    staff: CurrentStaff, session: SessionDep, notification_id: int
) -> Response:
    """Marks it read and goes to its page; another person's (or none) is a 404."""
    if notification_id > LARGEST_ID:
        raise NotFound()
    link = await service.open_notification(session, staff.id, notification_id)
    return RedirectResponse(link, status_code=303)
