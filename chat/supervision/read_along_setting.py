"""``/console/meelezen``: a centre's administrator decides whether its coordinators may read
along with its counsellors' chats. The pre-chat privacy notice follows the setting
(chat/supervision/service.check_read_along), and every change is in the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from clb.audit import record_audit
from clb.db import commit
from clb.org.models import Centre
from clb.web.deps import CurrentAdmin, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE = "/console/meelezen"


@router.get(PAGE, response_class=HTMLResponse)
async def read_along_setting(
    request: Request, staff: CurrentAdmin, session: SessionDep
) -> HTMLResponse:
    request.state.staff = staff
    centre = await session.scalar(select(Centre).where(Centre.id == staff.centre_id))
    context = {"centre": centre, "saved": request.query_params.get("bewaard") == "1"}
    return render(request, "console_read_along_setting.html", context)


@router.post(PAGE)
async def save_read_along_setting(
    staff: CurrentAdmin,
    _csrf: CsrfProtected,
    session: SessionDep,
    read_along: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    centre = await session.scalar(
        select(Centre).where(Centre.id == staff.centre_id).with_for_update()
    )
    wanted = read_along == "ja"
    if centre is not None and centre.chat_read_along != wanted:
        centre.chat_read_along = wanted
        record_audit(
            session,
            "centre.read_along_on" if wanted else "centre.read_along_off",
            actor_id=staff.id,
            object_type="centre",
            object_id=str(centre.id),
        )
        await commit(session)
    return RedirectResponse(f"{PAGE}?bewaard=1", status_code=303)
