"""Console pages for toolbox editors: what people searched for in vain
(/console/toolbox/zoekopdrachten) and the theme vocabularies (/console/toolbox/woorden)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clb.i18n import LANGUAGE_NAMES
from clb.i18n import gettext as _
from clb.web.deps import CurrentEditor, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render
from toolbox.labels import THEME_LABELS
from toolbox.search.service import safety_net_days
from toolbox.search_insights import service
from toolbox.search_insights.service import InvalidWord

router = APIRouter(include_in_schema=False)

SEARCHES = "/console/toolbox/zoekopdrachten"
WORDS = "/console/toolbox/woorden"
# Generous bounds: the service checks the real ones and answers in Dutch next to the field.
ChoiceField = Annotated[str, Form(max_length=60)]
WordField = Annotated[str, Form(max_length=400)]
RowField = Annotated[str, Form(max_length=12, pattern=r"^[a-z0-9-]*$")]
WordId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _choices() -> dict[str, Any]:
    return {"theme_choices": THEME_LABELS, "language_choices": LANGUAGE_NAMES}


def _problem(error: InvalidWord) -> dict[str, str]:
    return {error.field: _(error.detail_message)}


async def _searches_page(
    request: Request,
    session: AsyncSession,
    *,
    failed_row: str = "",
    problem: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    today = service.today_in_brussels()
    found = await service.insights(session, today)
    shown = {f"z{n}" for n in range(1, len(found.zero_results) + 1)} | {
        f"l{n}" for n in range(1, len(found.low_clicks) + 1)
    }
    if failed_row not in shown:
        failed_row = ""  # the row is gone: the errors show above the lists
    context = {
        **_choices(),
        "insights": found,
        "since": found.since.strftime("%d-%m-%Y"),
        "threshold": service.THRESHOLD,
        "failed_row": failed_row,
        "word_problem": problem or {},
        "word_values": values or {},
        "word_added": request.query_params.get("toegevoegd") == "1",
        # How often a crisis search showed the help box (its words are never kept).
        "safety_net_shown": sum((await safety_net_days(session, today)).values()),
    }
    return render(request, "console_toolbox_searches.html", context, status_code=status_code)


@router.get(SEARCHES, response_class=HTMLResponse)
async def searches_page(
    request: Request, staff: CurrentEditor, session: SessionDep
) -> HTMLResponse:
    request.state.staff = staff
    return await _searches_page(request, session)


@router.post(f"{SEARCHES}/woord")
async def add_word_from_search(
    request: Request,
    staff: CurrentEditor,
    _csrf: CsrfProtected,
    session: SessionDep,
    theme: ChoiceField = "",
    language: ChoiceField = "",
    word: WordField = "",
    row: RowField = "",
) -> Response:
    """Add a query, or a word from it, to a theme's vocabulary, from the list."""
    request.state.staff = staff
    try:
        await service.add_word(session, staff, theme, language, word)
    except InvalidWord as error:
        values = {"theme": theme, "language": language, "word": word}
        return await _searches_page(
            request,
            session,
            failed_row=row,
            problem=_problem(error),
            values=values,
            status_code=error.status,
        )
    return RedirectResponse(f"{SEARCHES}?toegevoegd=1#flash", status_code=303)


async def _words_page(
    request: Request,
    session: AsyncSession,
    *,
    chosen: str = "",
    problem: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    flags = ("toegevoegd", "verwijderd")
    context = {
        **_choices(),
        "vocabularies": await service.all_vocabularies(session),
        "chosen_theme": chosen if chosen in THEME_LABELS else "",
        "word_problem": problem or {},
        "word_values": values or {},
        "words_flash": next((f for f in flags if request.query_params.get(f) == "1"), ""),
        "word_min": service.WORD_MIN,
        "word_max": service.WORD_MAX,
    }
    return render(request, "console_toolbox_words.html", context, status_code=status_code)


def _theme_url(theme: str, flag: str) -> str:
    return f"{WORDS}?thema={theme}&{flag}=1#thema-{theme}"


@router.get(WORDS, response_class=HTMLResponse)
async def words_page(
    request: Request, staff: CurrentEditor, session: SessionDep, thema: str = ""
) -> HTMLResponse:
    request.state.staff = staff
    return await _words_page(request, session, chosen=thema[:60])


@router.post(WORDS)
async def add_word(
    request: Request,
    staff: CurrentEditor,
    _csrf: CsrfProtected,
    session: SessionDep,
    theme: ChoiceField = "",
    language: ChoiceField = "",
    word: WordField = "",
) -> Response:
    request.state.staff = staff
    try:
        await service.add_word(session, staff, theme, language, word)
    except InvalidWord as error:
        values = {"theme": theme, "language": language, "word": word}
        return await _words_page(
            request,
            session,
            chosen=theme,
            problem=_problem(error),
            values=values,
            status_code=error.status,
        )
    return RedirectResponse(_theme_url(theme, "toegevoegd"), status_code=303)


@router.post(f"{WORDS}/{{word_id}}/verwijderen")
async def remove_word(
    staff: CurrentEditor, _csrf: CsrfProtected, session: SessionDep, word_id: WordId
) -> Response:
    removed = await service.remove_word(session, staff, word_id)
    return RedirectResponse(_theme_url(removed.theme, "verwijderd"), status_code=303)
