"""``/console/meelezen``: a centre's administrator decides whether its coordinators may read
along with its counsellors' chats (the rule: chat/supervision/read_along_rule.py). The
pre-chat privacy notice follows the setting, and every change is in the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chat.opening_hours.schedule import BRUSSELS
from chat.supervision import repository as sup_repo
from clb.audit import record_audit
from clb.db import commit
from clb.web.deps import CurrentAdmin, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = "/console/meelezen"
TURNED_ON = "centre.read_along_on"
TURNED_OFF = "centre.read_along_off"


@router.get(PAGE, response_class=HTMLResponse)
async def read_along_setting(
    request: Request, staff: CurrentAdmin, session: SessionDep
) -> HTMLResponse:
    request.state.staff = staff
    centre = await sup_repo.centre(session, staff.centre_id)
    change = await sup_repo.last_setting_change(session, staff.centre_id, (TURNED_ON, TURNED_OFF))
    context = {
        "centre": centre,
        "saved": request.query_params.get("bewaard") == "1",
        "change": change,
        "change_on": change is not None and change.action == TURNED_ON,
        "change_at": change.at.astimezone(BRUSSELS).strftime("%d-%m-%Y %H:%M") if change else "",
    }
    return render(request, "console_read_along_setting.html", context)


@router.post(PAGE)
async def save_read_along_setting(
    staff: CurrentAdmin,
    _csrf: CsrfProtected,
    session: SessionDep,
    read_along: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    centre = await sup_repo.centre(session, staff.centre_id, lock=True)
    wanted = read_along == "ja"
    if centre is not None and centre.chat_read_along != wanted:
        centre.chat_read_along = wanted
        # Who changed it and when (the entry's time); the page shows the latest change.
        record_audit(
            session,
            TURNED_ON if wanted else TURNED_OFF,
            actor_id=staff.id,
            object_type="centre",
            object_id=str(centre.id),
        )
        await commit(session)
    return RedirectResponse(f"{PAGE}?bewaard=1", status_code=303)
