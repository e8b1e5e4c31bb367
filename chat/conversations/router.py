"""Chat routes: the visitor page and console page, the HTTP API and the two sockets."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from chat.conversations import repository, service
from chat.conversations.models import Sender
from chat.conversations.schemas import MAX_BODY, Rating, StartConversation
from chat.errors import NotAllowed
from chat.events import render_body
from chat.labels import AGE_BAND_LABELS, TOPIC_LABELS, WHO_LABELS, language_labels
from chat.opening_hours.schedule import chat_clock
from chat.realtime.console_socket import console_socket
from chat.realtime.visitor_socket import visitor_socket
from chat.rota.my_shifts import next_shift_line
from chat.supervision.repository import any_centre_reads_along
from clb.db import utcnow
from clb.i18n import LANGUAGE_NAMES, current_language, gettext
from clb.web.deps import CurrentCounsellor, ServicesDep, SessionDep, VisitorDep
from clb.web.security import ip_hash
from clb.web.templating import render

router = APIRouter()


@router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
async def chat_page(request: Request, session: SessionDep) -> HTMLResponse:
    return render(
        request,
        "chat.html",
        {
            # The privacy notice tells the truth about who may read along.
            "read_along": await any_centre_reads_along(session),
            "topics": [(t.value, label) for t, label in TOPIC_LABELS.items()],
            "who_options": [(w.value, label) for w, label in WHO_LABELS.items()],
            "age_bands": [(a.value, label) for a, label in AGE_BAND_LABELS.items()],
            # Each language in its own name; the page's language is the default.
            "chat_languages": list(LANGUAGE_NAMES.items()),
            "chat_language": current_language(),
            "max_body": MAX_BODY,
            "nickname_max": 40,
        },
    )


@router.get("/console/chat", response_class=HTMLResponse, include_in_schema=False)
async def console_page(
    request: Request,
    staff: CurrentCounsellor,
    session: SessionDep,
    now: Annotated[datetime, Depends(chat_clock)],
) -> HTMLResponse:
    request.state.staff = staff
    return render(
        request,
        "console_chat.html",
        {
            # The rota's "Jouw volgende chatbeurt: …" ("" without a planned shift).
            "next_shift": await next_shift_line(session, staff, now),
            "labels": {
                "topics": {t.value: gettext(label) for t, label in TOPIC_LABELS.items()},
                "who": {w.value: gettext(label) for w, label in WHO_LABELS.items()},
                "age_bands": {a.value: gettext(label) for a, label in AGE_BAND_LABELS.items()},
                "languages": language_labels(),
            },
        },
    )


@router.post("/api/chat/conversations", tags=["chat"], status_code=201)
async def start_conversation(
    request: Request,
    form: StartConversation,
    visitor: VisitorDep,
    services: ServicesDep,
    session: SessionDep,
    now: Annotated[datetime, Depends(chat_clock)],
) -> JSONResponse:
    """Join the queue with the pre-chat form (or get back the conversation already open)."""
    conversation, created = await service.start_conversation(
        session,
        services,
        visitor.id,
        service.NewConversation(
            nickname=form.nickname,
            who=form.who,
            topic=form.topic,
            age_band=form.age_band,
            subject=form.subject,
            language=form.language,
            address=ip_hash(request),
        ),
        now,
    )
    return JSONResponse(
        {"conversation_id": str(conversation.id), "status": conversation.status},
        status_code=201 if created else 200,
    )


@router.post("/api/chat/conversations/{conversation_id}/exit", tags=["chat"], status_code=204)
async def quick_exit(
    conversation_id: uuid.UUID, visitor: VisitorDep, services: ServicesDep, session: SessionDep
) -> None:
    """The quick exit, sent by the page on its way out (``fetch`` with ``keepalive``). A
    waiting chat leaves the queue; a running one stays open for the counsellor, who sees
    at once that the visitor left. Saying it twice, or after the end, changes nothing."""
    await service.visitor_exit(session, services, visitor.id, conversation_id, utcnow())


@router.get("/api/chat/conversations/{conversation_id}/transcript", tags=["chat"])
async def transcript(
    conversation_id: uuid.UUID, visitor: VisitorDep, session: SessionDep
) -> PlainTextResponse:
    """The conversation as text, for its visitor only, until the retention purge."""
    conversation = await repository.get_conversation(session, conversation_id)
    if conversation is None or conversation.visitor_id != visitor.id or conversation.purged_at:
        raise NotAllowed()
    rows = await repository.messages_with_authors(session, conversation_id, 0)
    lines = [gettext("Gesprek met het CLB"), ""]
    for message, author in rows:
        who = author or (conversation.nickname if message.sender == Sender.visitor else "CLB")
        stamp = message.created_at.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"[{stamp}] {who}: {render_body(message)}")
    return PlainTextResponse(
        "\n".join(lines) + "\n",
        headers={"Content-Disposition": 'attachment; filename="gesprek-clb.txt"'},
    )


@router.post("/api/chat/conversations/{conversation_id}/rating", tags=["chat"], status_code=204)
async def rate(
    conversation_id: uuid.UUID, rating: Rating, visitor: VisitorDep, session: SessionDep
) -> None:
    await service.rate_conversation(
        session, visitor.id, conversation_id, rating.stars, rating.comment
    )


async def chat_socket(websocket: WebSocket) -> None:
    await visitor_socket(websocket, websocket.app.state.services)


async def console_socket_route(websocket: WebSocket) -> None:
    await console_socket(websocket, websocket.app.state.services)


# Plain Starlette socket routes: no dependency solving to keep alive per socket (a held
# socket lives for hours, and thousands are held at once).
router.add_websocket_route("/ws/chat", chat_socket)
router.add_websocket_route("/ws/console", console_socket_route)
