"""The privacy console (``/console/privacy``): a coordinator finds one person's records at
their own centre by e-mail address, phone number or reference, exports them (JSON or a
readable page) and erases them after a confirmation step. The logic is
composition.privacy_requests'; what is typed travels in POST bodies only, never in an
address (addresses end up in logs).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clb.auth.models import StaffAccount
from clb.db import utcnow
from clb.i18n import gettext as _
from clb.web.deps import CurrentCoordinator, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render
from composition import privacy_requests as privacy
from composition.privacy_requests import BadQuery, PersonQuery, Record

router = APIRouter(include_in_schema=False)

PRIVACY = "/console/privacy"
Typed = Annotated[str, Form(max_length=1000)]


async def _search(
    request: Request, staff: StaffAccount, session: SessionDep, zoek: str, action: str = ""
) -> tuple[PersonQuery, list[Record]] | HTMLResponse:
    """The query and its records, with ``action`` (if any) in the audit log; or the search
    page again with what is wrong. Erasing audits what it erased instead."""
    request.state.staff = staff
    try:
        query = privacy.parse_query(zoek)
    except BadQuery as exc:
        context = {"typed": zoek[: privacy.QUERY_MAX], "error": _(exc.message)}
        return render(request, "console_privacy.html", context, status_code=422)
    records = await privacy.find(session, staff, query)
    if action:
        privacy.audit(session, staff, action, records)
    return query, records


@router.get(PRIVACY, response_class=HTMLResponse)
async def privacy_page(
    request: Request,
    staff: CurrentCoordinator,
    gewist: Annotated[int | None, Query(ge=0, le=100_000)] = None,
) -> HTMLResponse:
    request.state.staff = staff
    return render(request, "console_privacy.html", {"erased": gewist})


@router.post(PRIVACY, response_class=HTMLResponse)
async def privacy_search(
    request: Request,
    staff: CurrentCoordinator,
    session: SessionDep,
    _csrf: CsrfProtected,
    zoek: Typed = "",
) -> HTMLResponse:
    found = await _search(request, staff, session, zoek, "privacy.search")
    if isinstance(found, HTMLResponse):
        return found
    query, records = found
    context = {
        "typed": query.typed,
        "searched": True,
        "records": [privacy.record_view(record) for record in records],
    }
    return render(request, "console_privacy.html", context)


@router.post(PRIVACY + "/export.json")
async def privacy_export_json(
    request: Request,
    staff: CurrentCoordinator,
    session: SessionDep,
    _csrf: CsrfProtected,
    zoek: Typed = "",
) -> Response:
    found = await _search(request, staff, session, zoek, "privacy.export")
    if isinstance(found, HTMLResponse):
        return found
    query, records = found
    return Response(
        privacy.export_json(records, query, utcnow()),
        media_type="application/json",
        headers={
            "content-disposition": 'attachment; filename="gegevens.json"',
            "cache-control": "no-store",
        },
    )


@router.post(PRIVACY + "/export", response_class=HTMLResponse)
async def privacy_export_page(
    request: Request,
    staff: CurrentCoordinator,
    session: SessionDep,
    _csrf: CsrfProtected,
    zoek: Typed = "",
) -> HTMLResponse:
    found = await _search(request, staff, session, zoek, "privacy.export")
    if isinstance(found, HTMLResponse):
        return found
    query, records = found
    context = {
        "typed": query.typed,
        "records": [privacy.record_view(record, full=True) for record in records],
    }
    response = render(request, "console_privacy_export.html", context)
    response.headers["cache-control"] = "no-store"
    return response


@router.post(PRIVACY + "/wissen", response_class=HTMLResponse)
async def privacy_erase_confirm(
    request: Request,
    staff: CurrentCoordinator,
    session: SessionDep,
    _csrf: CsrfProtected,
    zoek: Typed = "",
) -> HTMLResponse:
    """The "are you sure?" step: what will be erased, and a box to tick."""
    found = await _search(request, staff, session, zoek)
    if isinstance(found, HTMLResponse):
        return found
    query, records = found
    return _confirm_page(request, query, records)


def _confirm_page(
    request: Request, query: PersonQuery, records: list[Record], error: str = ""
) -> HTMLResponse:
    context = {
        "typed": query.typed,
        "records": [privacy.record_view(record) for record in records],
        "error": _(error) if error else "",
    }
    return render(request, "console_privacy_erase.html", context, status_code=422 if error else 200)


@router.post(PRIVACY + "/wissen/bevestigen", response_class=HTMLResponse)
async def privacy_erase(
    request: Request,
    staff: CurrentCoordinator,
    session: SessionDep,
    _csrf: CsrfProtected,
    zoek: Typed = "",
    ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies the default
    zeker: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    found = await _search(request, staff, session, zoek)
    if isinstance(found, HTMLResponse):
        return found
    query, records = found
    chosen = {str(record.id) for record in records} & set(ids)
    if not chosen:
        return _confirm_page(request, query, records, privacy.MESSAGES["nothing_chosen"])
    if zeker != "ja":
        return _confirm_page(request, query, records, privacy.MESSAGES["not_confirmed"])
    erased = await privacy.erase(session, staff, records, chosen, utcnow())
    return RedirectResponse(f"{PRIVACY}?gewist={erased}", status_code=303)
