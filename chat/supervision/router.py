"""Supervision pages: the coordinators' dashboard (``/console/toezicht``), silent
read-along of one chat with the whisper form, the audit log (``/console/audit``), the
supervision socket, and the whispers a counsellor received (for their console)."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import repository
from chat.conversations.models import OPEN_STATUSES, Conversation, Sender
from chat.events import render_body
from chat.labels import TOPIC_LABELS, WHO_LABELS, language_labels
from chat.opening_hours.schedule import BRUSSELS
from chat.realtime.sockets import counsellor_name
from chat.realtime.supervision_socket import supervision_socket
from chat.rota.plan_vs_actual import plan_versus_actual
from chat.supervision import repository as sup_repo
from chat.supervision import service as supervision
from chat.supervision.audit_reads import ACTION_LABELS, OBJECT_LABELS, READ_ACTIONS
from chat.supervision.read_along_rule import (
    ReadAlongRefused,
    Refusal,
    audit_refusal,
    check_read_along,
)
from clb.auth.models import StaffAccount
from clb.db import commit, utcnow
from clb.errors import ClbError, NotFound
from clb.i18n import gettext as _
from clb.web.deps import CurrentCoordinator, CurrentCounsellor, ServicesDep, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

DASHBOARD = "/console/toezicht"
AUDIT = "/console/audit"
AUDIT_PAGE_SIZE = 50

STATE_LABELS = {
    "free": "Beschikbaar, vrij",
    "busy": "Beschikbaar, in gesprek",
    "full": "Volzet",
    "pause": "Pauze",
    "away": "In dienst, console niet open",
    "off_duty": "Console open, niet in dienst",
}
STATUS_LABELS = {
    "waiting": "Wacht in de rij",
    "active": "Loopt",
    "ended": "Afgelopen",
    "abandoned": "Verlaten",
}
SOURCE_LABELS = {
    "subject": "in het onderwerp",
    "message": "in een bericht",
    "question": "in een vraag via „Stel je vraag”",  # chat.questions: the alert's url opens it
}


def clock(moment: datetime | str | None) -> str:
    if moment is None:
        return ""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.astimezone(BRUSSELS).strftime("%H:%M")


def day_and_clock(moment: datetime) -> str:
    return moment.astimezone(BRUSSELS).strftime("%d-%m-%Y %H:%M")


def duration(seconds: int) -> str:
    minutes = seconds // 60
    if minutes < 1:
        return _("minder dan 1 min")
    if minutes < 60:
        return _("{n} min").format(n=minutes)
    return _("{h} u {n} min").format(h=minutes // 60, n=minutes % 60)


def _refusals() -> dict[str, str]:
    """Said on the dashboard instead of a "Meelezen" link that would be refused."""
    return {
        Refusal.waiting.value: _("Meelezen kan nog niet: wacht op een hulpverlener"),
        Refusal.other_centre.value: _("Ander centrum: meelezen kan niet"),
        Refusal.centre_off.value: _("Meelezen staat uit voor je centrum"),
    }


def _texts() -> dict[str, Any]:
    """Everything supervision.js shows, translated once on the server."""
    return {
        "states": {key: _(label) for key, label in STATE_LABELS.items()},
        "statuses": {key: _(label) for key, label in STATUS_LABELS.items()},
        "sources": {key: _(label) for key, label in SOURCE_LABELS.items()},
        "topics": {t.value: _(label) for t, label in TOPIC_LABELS.items()},
        "languages": language_labels(),
        "less_than_minute": _("minder dan 1 min"),
        "minutes": _("{n} min"),
        "hours": _("{h} u {n} min"),
        "chats_of": _("{n} van {max}"),
        "alert": _("Signaal"),
        "alert_text": _("{name}: “{term}” {source}."),
        "read_along": _("Meelezen"),
        "read_along_with": _("met {name}"),
        "open_question": _("Vraag openen"),
        "refusals": _refusals(),
        "seen": _("Gezien"),
        "in_queue": _("nog in de wachtrij"),
        "since": _("sinds {time}"),
        "live": _("Live bijgewerkt om {time}."),
        "reconnecting": _("Verbinding herstellen…"),
        "signed_out": _("Je bent niet meer aangemeld."),
        "notify_title": _("Signaal in de chat"),
        "notify_on": _("Meldingen staan aan."),
        "notify_denied": _("De browser staat geen meldingen toe."),
        "none_flagged": _("Geen open signalen."),
        "yes": _("ja"),
    }


@router.get(DASHBOARD, response_class=HTMLResponse)
async def dashboard(
    request: Request, staff: CurrentCoordinator, session: SessionDep, services: ServicesDep
) -> HTMLResponse:
    request.state.staff = staff
    now = utcnow()
    data = await supervision.snapshot(session, services, now, staff)
    return render(
        request,
        "console_supervision.html",
        {
            "snapshot": data,
            # The rota's plan for this slot next to who is on duty (chat.rota).
            "rota_now": await plan_versus_actual(session, services, now, staff),
            "texts": _texts(),
            "state_labels": STATE_LABELS,
            "status_labels": STATUS_LABELS,
            "source_labels": SOURCE_LABELS,
            "refusals": _refusals(),
            "topic_labels": {t.value: label for t, label in TOPIC_LABELS.items()},
            "language_labels": language_labels(),
            "clock": clock,
            "duration": duration,
            "updated": clock(now),
        },
    )


async def _refused(session: AsyncSession, staff: StaffAccount, conversation_id: uuid.UUID) -> None:
    """Keep the refused attempt in the audit log although the request fails."""
    await audit_refusal(session, staff, conversation_id, utcnow())
    await commit(session)


async def _read(
    session: AsyncSession, staff: StaffAccount, conversation: Conversation
) -> list[dict[str, Any]]:
    """An open chat's messages for a coordinator the rule allows; a refusal is audited."""
    try:
        await check_read_along(session, staff, conversation)
    except ReadAlongRefused:
        await _refused(session, staff, conversation.id)
        raise
    # Each opening of this page is a read of the conversation: audited, never content.
    await supervision.audit_read_along(session, staff, conversation.id, utcnow(), always=True)
    rows = await repository.messages_with_authors(session, conversation.id, 0)
    return [
        {
            "seq": message.seq,
            "sender": message.sender,
            "author": author or (conversation.nickname if message.sender == Sender.visitor else ""),
            "body": render_body(message),
            "ts": message.created_at.isoformat(),
            "clock": clock(message.created_at),
        }
        for message, author in rows
    ]


async def _read_along_page(
    request: Request,
    session: AsyncSession,
    conversation_id: uuid.UUID,
    *,
    whisper_error: str = "",
    whisper_value: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    conversation = await repository.get_conversation(session, conversation_id)
    if conversation is None or conversation.purged_at is not None:
        raise NotFound()
    staff = request.state.staff
    context: dict[str, Any] = {
        "conversation": conversation,
        "open": conversation.status in OPEN_STATUSES,
        "status_label": STATUS_LABELS.get(conversation.status, conversation.status),
        "topic_label": {t.value: x for t, x in TOPIC_LABELS.items()}.get(conversation.topic, ""),
        "who_label": {w.value: x for w, x in WHO_LABELS.items()}.get(conversation.who, ""),
        "counsellor": await counsellor_name(session, conversation),
        "messages": [],
        "flags": [],
        "source_labels": SOURCE_LABELS,
        "whispered": request.query_params.get("gefluisterd") == "1",
        "whisper_error": whisper_error,
        "whisper_value": whisper_value,
        "max_whisper": supervision.MAX_WHISPER,
        "clock": clock,
        "texts": {
            "statuses": {key: _(label) for key, label in STATUS_LABELS.items()},
            "reconnecting": _("Verbinding herstellen…"),
            "signed_out": _("Je bent niet meer aangemeld."),
            "ended": _("Dit gesprek is afgelopen."),
            "whispered": _("Gefluisterd aan {name}."),
            "you_whispered": _("Jij fluisterde:"),
            "msg_system": _("Melding:"),
            "msg_other": _("Bezoeker"),
            "mark_sent": _("verzonden"),
            "error_generic": _("Er ging iets mis. Probeer het opnieuw."),
        },
    }
    if context["open"]:
        context["messages"] = await _read(session, staff, conversation)
        context["flags"] = await sup_repo.flags_of(session, conversation.id)
    return render(request, "console_read_along.html", context, status_code=status_code)


@router.get(DASHBOARD + "/gesprek/{conversation_id}", response_class=HTMLResponse)
async def read_along_page(
    request: Request, conversation_id: uuid.UUID, staff: CurrentCoordinator, session: SessionDep
) -> HTMLResponse:
    request.state.staff = staff
    return await _read_along_page(request, session, conversation_id)


@router.post(DASHBOARD + "/gesprek/{conversation_id}/fluisteren")
async def whisper_form(
    request: Request,
    conversation_id: uuid.UUID,
    staff: CurrentCoordinator,
    _csrf: CsrfProtected,
    session: SessionDep,
    services: ServicesDep,
    body: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    request.state.staff = staff
    try:
        await supervision.whisper(session, services, staff, conversation_id, body, utcnow())
    except ClbError as error:
        # A refused whisper (too long, the chat ended …) shows the page again with the text
        # kept; a chat that is gone, still waiting, or not this coordinator's to read, is
        # the error page.
        if isinstance(error, ReadAlongRefused):
            await _refused(session, staff, conversation_id)
        if isinstance(error, NotFound | ReadAlongRefused | supervision.NoCounsellor):
            raise
        return await _read_along_page(
            request,
            session,
            conversation_id,
            whisper_error=_(error.detail_message),
            whisper_value=body[: supervision.MAX_WHISPER * 2],
            status_code=error.status,
        )
    return RedirectResponse(
        f"{DASHBOARD}/gesprek/{conversation_id}?gefluisterd=1#whisper-title", status_code=303
    )


@router.get("/api/chat/conversations/{conversation_id}/whispers", tags=["chat"])
async def whispers(
    conversation_id: uuid.UUID, staff: CurrentCounsellor, session: SessionDep
) -> JSONResponse:
    """The whispers a coordinator sent me in a chat I hold (my console shows them)."""
    items = await supervision.whispers_for(session, staff, conversation_id)
    return JSONResponse({"whispers": items})


@router.get(AUDIT, response_class=HTMLResponse)
async def audit_log(
    request: Request,
    staff: CurrentCoordinator,
    session: SessionDep,
    pagina: Annotated[int, Query(ge=1, le=100_000)] = 1,
    soort: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    request.state.staff = staff
    reads_only = soort == "inzage"
    offset = (pagina - 1) * AUDIT_PAGE_SIZE
    rows, total = await sup_repo.audit_page(
        session, offset, AUDIT_PAGE_SIZE, READ_ACTIONS if reads_only else None
    )
    pages = max(1, math.ceil(total / AUDIT_PAGE_SIZE))
    entries = [
        {
            "at": day_and_clock(event.at),
            "at_iso": event.at.isoformat(),
            "actor": (name or _("onbekend")) if event.actor_id else _("systeem"),
            "actor_email": email or "",
            "action": _(ACTION_LABELS[event.action])
            if event.action in ACTION_LABELS
            else event.action,
            "object_type": _(OBJECT_LABELS[event.object_type])
            if event.object_type in OBJECT_LABELS
            else (event.object_type or ""),
            "object_id": event.object_id or "",
        }
        for event, name, email in rows
    ]
    return render(
        request,
        "console_audit.html",
        {
            "entries": entries,
            "audit_page": pagina,
            "audit_pages": pages,
            "audit_total": total,
            "reads_only": reads_only,
            "filter_query": "&soort=inzage" if reads_only else "",
        },
    )


@router.websocket("/ws/supervision")
async def supervision_socket_route(websocket: WebSocket) -> None:
    await supervision_socket(websocket, websocket.app.state.services)
