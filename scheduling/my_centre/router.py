"""``/mijn-clb``: find your own CLB by your school, and reach it (scheduling.my_centre.service).

A GET form that works without JavaScript: ``?q=`` searches, ``?school=`` shows the centre of a
school picked from the results. Every answer is a page, with the problem next to the field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from chat.public import ChatClock, chat_opening, chat_status_text
from clb.web.deps import SessionDep
from clb.web.templating import render
from scheduling.meetings.router import FORM_PATH
from scheduling.my_centre.service import MIN_QUERY, QUERY_MAX, look_up

router = APIRouter(include_in_schema=False)

PAGE_PATH = "/mijn-clb"
BOOK_PATH = "/afspraak/waarover"
CHAT_PATH = "/chat"
QUESTION_PATH = "/vraag"


@router.get(PAGE_PATH, response_class=HTMLResponse)
async def my_centre(
    request: Request,
    session: SessionDep,
    now: ChatClock,
    q: str | None = None,
    school: str | None = None,
) -> HTMLResponse:
    found = await look_up(session, q, school)
    opening = await chat_opening(session, request.app.state.settings, now)
    context: dict[str, Any] = {
        "my_centre_query": found.query,
        "my_centre_error": found.error,
        "my_centre_matches": found.matches,
        "my_centre_card": found.card,
        "my_centre_chat_open": opening.can_start,
        "my_centre_chat_status": chat_status_text(opening, now),
        "my_centre_query_max": QUERY_MAX,
        "my_centre_min_query": MIN_QUERY,
        "my_centre_paths": {
            "page": PAGE_PATH,
            "chat": CHAT_PATH,
            "book": BOOK_PATH,
            "meet": FORM_PATH,
            "ask": QUESTION_PATH,
        },
    }
    return render(request, "my_centre.html", context, status_code=found.status)
