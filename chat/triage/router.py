"""Coordinators keep the crisis lexicon at /console/triage (list, filter, add, remove, and
"test a sentence"); counsellors and coordinators dismiss a false flag through the API."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from chat.triage import repository as triage_repository
from chat.triage import service as triage
from chat.triage.match import Matcher, is_emoji_term
from clb.db import utcnow
from clb.i18n import gettext as _
from clb.web.deps import CurrentCoordinator, CurrentStaff, ServicesDep, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter()

PAGE = "/console/triage"
MAX_SENTENCE = 4000

TermField = Annotated[str, Form(max_length=200)]
SentenceField = Annotated[str, Form(max_length=MAX_SENTENCE)]


async def _page(
    request: Request,
    session: Any,
    *,
    search: str = "",
    term_value: str = "",
    term_error: str = "",
    sentence: str = "",
    sentence_error: str = "",
    result: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows = await triage_repository.list_terms(session, search.strip()[:100])
    total = await triage_repository.count_terms(session)
    context = {
        "terms": [{"id": r.id, "term": r.term, "emoji": is_emoji_term(r.term)} for r in rows],
        "total": total,
        "search": search,
        "term_value": term_value,
        "term_error": term_error,
        "sentence": sentence,
        "sentence_error": sentence_error,
        "result": result,
        "added": request.query_params.get("toegevoegd", ""),
        "removed": request.query_params.get("verwijderd") == "1",
    }
    return render(request, "console_triage.html", context, status_code=status_code)


@router.get(PAGE, response_class=HTMLResponse, include_in_schema=False)
async def lexicon_page(
    request: Request, staff: CurrentCoordinator, session: SessionDep, zoek: str = ""
) -> HTMLResponse:
    request.state.staff = staff
    return await _page(request, session, search=zoek[:100])


@router.post(f"{PAGE}/termen", include_in_schema=False)
async def add_term(
    request: Request,
    staff: CurrentCoordinator,
    _csrf: CsrfProtected,
    session: SessionDep,
    services: ServicesDep,
    term: TermField = "",
) -> Response:
    request.state.staff = staff
    try:
        row = await triage.add_term(session, services, staff, term)
    except (triage.InvalidTerm, triage.DuplicateTerm) as error:
        return await _page(
            request,
            session,
            term_value=term,
            term_error=_(error.detail_message),
            status_code=422 if isinstance(error, triage.InvalidTerm) else 409,
        )
    return RedirectResponse(f"{PAGE}?toegevoegd={row.id}#terms-title", status_code=303)


@router.post(f"{PAGE}/termen/{{term_id}}/verwijderen", include_in_schema=False)
async def remove_term(
    staff: CurrentCoordinator,
    _csrf: CsrfProtected,
    session: SessionDep,
    services: ServicesDep,
    term_id: int,
) -> Response:
    await triage.remove_term(session, services, staff, term_id)
    return RedirectResponse(f"{PAGE}?verwijderd=1#terms-title", status_code=303)


@router.post(f"{PAGE}/testen", include_in_schema=False)
async def test_sentence(
    request: Request,
    staff: CurrentCoordinator,
    _csrf: CsrfProtected,
    session: SessionDep,
    sentence: SentenceField = "",
) -> Response:
    """Which term a sentence would trip, against the lexicon as stored right now. The
    sentence is neither stored nor logged."""
    request.state.staff = staff
    if not sentence.strip():
        return await _page(
            request,
            session,
            sentence_error=_("Typ een zin om te testen."),
            status_code=422,
        )
    hit = Matcher(await triage_repository.all_terms(session)).first(sentence)
    result = {"term": hit.term if hit else None}
    return await _page(request, session, sentence=sentence, result=result)


class DismissFlag(BaseModel):
    reason: str = Field(max_length=1000)


class DismissedFlags(BaseModel):
    dismissed: int


@router.post("/api/chat/conversations/{conversation_id}/flags/dismiss", tags=["chat"])
async def dismiss_flag(
    conversation_id: uuid.UUID,
    body: DismissFlag,
    staff: CurrentStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    services: ServicesDep,
) -> DismissedFlags:
    """Clear a conversation's crisis flag (a false alarm), with a reason of 3–300
    characters. For the counsellor holding the chat and for coordinators; audited."""
    count = await triage.dismiss_flags(
        session, services, staff, conversation_id, body.reason, utcnow()
    )
    return DismissedFlags(dismissed=count)
