"""``/console/team``: a coordinator sees their centre's counsellors (duty, whether they are
really available, chats held) and sets each one's maximum number of chats at once and the
languages they chat in besides Dutch."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chat.console import duty
from chat.console import repository as staff_repository
from chat.labels import DUTY_LABELS, language_labels
from chat.realtime import presence
from clb.auth.models import StaffAccount
from clb.db import utcnow
from clb.errors import NotFound
from clb.i18n import SOURCE_LANGUAGE
from clb.i18n import gettext as _
from clb.web.deps import CurrentCoordinator, ServicesDep, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE = "/console/team"
MIN_CHATS, MAX_CHATS = 1, 10  # the chat_staff.max_chats_range constraint


async def _counsellor_of_centre(
    session: AsyncSession, coordinator: StaffAccount, staff_id: uuid.UUID
) -> StaffAccount:
    """A counsellor of the coordinator's own centre; anyone else is not found."""
    counsellor = await staff_repository.counsellor_in_centre(
        session, staff_id, coordinator.centre_id
    )
    if counsellor is None:
        raise NotFound()
    return counsellor


async def _page(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    *,
    error: tuple[str, str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    staff = request.state.staff
    default = services.settings.chat_counsellor_capacity
    team = await staff_repository.team_of_centre(session, staff.centre_id, default)
    fresh = await presence.fresh_counsellors(services.redis, services.keys)
    names = language_labels()
    rows: list[dict[str, Any]] = [
        {
            "id": str(member.staff_id),
            "name": member.display_name,
            "duty": _(DUTY_LABELS.get(member.duty, member.duty)),
            "available": member.duty == "on_duty" and member.staff_id in fresh,
            "console_open": member.staff_id in fresh,
            "active": member.active,
            "max_chats": member.max_chats,
            "own_max": member.own_max,
            "languages": list(member.languages),
            "language_names": ", ".join(names.get(code, code) for code in member.languages),
        }
        for member in team
    ]
    context = {
        "team": rows,
        "default_max": default,
        "min_chats": MIN_CHATS,
        "max_chats": MAX_CHATS,
        # Dutch is implied: everyone chats in it.
        "team_languages": [(c, name) for c, name in names.items() if c != SOURCE_LANGUAGE],
        "team_error": ({"id": error[0], "field": error[1], "message": error[2]} if error else None),
        "saved": request.query_params.get("bewaard"),
    }
    return render(request, "console_team.html", context, status_code=status_code)


@router.get(PAGE, response_class=HTMLResponse)
async def team_page(
    request: Request, staff: CurrentCoordinator, services: ServicesDep, session: SessionDep
) -> HTMLResponse:
    request.state.staff = staff
    return await _page(request, services, session)


@router.post(f"{PAGE}/{{staff_id}}/max")
async def set_max_chats(
    request: Request,
    staff: CurrentCoordinator,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    staff_id: uuid.UUID,
    max_chats: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    request.state.staff = staff
    counsellor = await _counsellor_of_centre(session, staff, staff_id)
    value = max_chats.strip()
    wanted: int | None = None
    if value:
        if not value.isdigit() or not MIN_CHATS <= int(value) <= MAX_CHATS:
            message = _("Vul een getal van %(low)s tot %(high)s in.") % {
                "low": MIN_CHATS,
                "high": MAX_CHATS,
            }
            return await _page(
                request, services, session, error=(str(staff_id), "max", message), status_code=422
            )
        wanted = int(value)
    await duty.set_max_chats(session, services, staff, counsellor.id, wanted, utcnow())
    return RedirectResponse(f"{PAGE}?bewaard=1#main", status_code=303)


@router.post(f"{PAGE}/{{staff_id}}/talen")
async def set_languages(
    request: Request,
    staff: CurrentCoordinator,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    staff_id: uuid.UUID,
    languages: Annotated[list[str] | None, Form()] = None,
) -> Response:
    request.state.staff = staff
    counsellor = await _counsellor_of_centre(session, staff, staff_id)
    offered = [code for code in language_labels() if code != SOURCE_LANGUAGE]
    wanted = list(dict.fromkeys(languages or []))
    if any(code not in offered for code in wanted):
        message = _("Kies de talen uit de lijst.")
        return await _page(
            request, services, session, error=(str(staff_id), "talen", message), status_code=422
        )
    chosen = [code for code in offered if code in wanted]  # in the list's order
    await duty.set_languages(session, staff, counsellor.id, chosen, utcnow())
    return RedirectResponse(f"{PAGE}?bewaard=talen#main", status_code=303)
