"""The counsellor tools' JSON API, used by the chat console (console-tools.js): private
notes, the canned replies to pick from, the outcome at close and the handover code.

Cookie-authenticated, so every change needs the CSRF token (``X-CSRF-Token``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from chat.counsellor_tools import canned, handover, notes, outcome, taxonomy
from clb.auth.models import Role, StaffAccount
from clb.db import utcnow
from clb.errors import Forbidden
from clb.i18n import gettext
from clb.web.deps import CurrentStaff, ServicesDep, SessionDep
from clb.web.security import CsrfProtected

router = APIRouter(prefix="/api/console", tags=["console"])


async def console_staff(account: CurrentStaff) -> StaffAccount:
    """Counsellors and coordinators (admins pass every role check)."""
    if not (account.has_role(Role.counsellor) or account.has_role(Role.coordinator)):
        raise Forbidden()
    return account


ConsoleStaff = Annotated[StaffAccount, Depends(console_staff)]


class NoteIn(BaseModel):
    # Generous here; the clear Dutch limit (2000) is checked by chat.notes.
    body: str = Field(max_length=10_000)


class NoteOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    author: str
    body: str
    created_at: datetime


class NotesOut(BaseModel):
    notes: list[NoteOut]


class CannedReplyOut(BaseModel):
    id: uuid.UUID
    title: str
    body: str
    shared: bool


class CannedRepliesOut(BaseModel):
    replies: list[CannedReplyOut]


class OutcomeIn(BaseModel):
    topics: list[str] = Field(default_factory=list, max_length=50)
    referrals: list[str] = Field(default_factory=list, max_length=20)
    summary: str | None = Field(default=None, max_length=5000)


class OutcomeOut(BaseModel):
    topics: list[str]
    referrals: list[str]
    summary: str | None
    has_handover_code: bool
    recorded_at: datetime | None


class HandoverOut(BaseModel):
    code: str
    meeting_url: str
    booking_url: str


def _note_out(view: notes.NoteView) -> NoteOut:
    return NoteOut(
        id=view.id,
        kind=view.kind,
        kind_label=gettext(notes.NOTE_KIND_LABELS.get(view.kind, "Notitie")),
        author=view.author,
        body=view.body,
        created_at=view.created_at,
    )


def _outcome_out(view: outcome.OutcomeView) -> OutcomeOut:
    # The same fields as the view, read by name.
    return OutcomeOut.model_validate(view, from_attributes=True)


@router.get("/conversations/{conversation_id}/notes")
async def list_notes(
    conversation_id: uuid.UUID, staff: ConsoleStaff, session: SessionDep
) -> NotesOut:
    """Staff-only notes on a conversation (a coordinator's read is audited)."""
    views = await notes.list_notes(session, staff, conversation_id)
    return NotesOut(notes=[_note_out(view) for view in views])


@router.post("/conversations/{conversation_id}/notes", status_code=201)
async def add_note(
    conversation_id: uuid.UUID,
    note: NoteIn,
    staff: ConsoleStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
) -> NoteOut:
    view = await notes.add_note(session, staff, conversation_id, note.body, utcnow())
    return _note_out(view)


@router.get("/canned-replies")
async def list_canned_replies(staff: ConsoleStaff, session: SessionDep) -> CannedRepliesOut:
    """The centre's shared replies and the person's own, to insert into the composer."""
    replies = await canned.visible_to(session, staff)
    return CannedRepliesOut(
        replies=[
            CannedReplyOut(id=r.id, title=r.title, body=r.body, shared=r.owner_id is None)
            for r in replies
        ]
    )


@router.get("/outcome-options")
async def outcome_options(staff: ConsoleStaff) -> dict[str, Any]:
    """The taxonomy for the outcome form, labelled in the reader's language."""
    return {
        "domains": [
            {
                "code": domain,
                "label": gettext(taxonomy.DOMAIN_LABELS[domain]),
                "topics": [
                    {"code": code, "label": gettext(taxonomy.TOPIC_LABELS[code])} for code in codes
                ],
            }
            for domain, codes in taxonomy.topics_by_domain().items()
        ],
        "referrals": [
            {"code": code, "label": gettext(label)}
            for code, label in taxonomy.REFERRAL_LABELS.items()
        ],
        "summary_max": outcome.SUMMARY_MAX,
    }


@router.get("/conversations/{conversation_id}/outcome")
async def get_outcome(
    conversation_id: uuid.UUID, staff: ConsoleStaff, session: SessionDep
) -> OutcomeOut:
    return _outcome_out(await outcome.get_outcome(session, staff.id, conversation_id))


@router.put("/conversations/{conversation_id}/outcome")
async def record_outcome(
    conversation_id: uuid.UUID,
    form: OutcomeIn,
    staff: ConsoleStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
) -> OutcomeOut:
    """Record or change the outcome (until the retention purge)."""
    view = await outcome.record_outcome(
        session, staff.id, conversation_id, form.topics, form.referrals, form.summary, utcnow()
    )
    return _outcome_out(view)


@router.post("/conversations/{conversation_id}/handover-code", status_code=201)
async def offer_handover(
    conversation_id: uuid.UUID,
    staff: ConsoleStaff,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
) -> HandoverOut:
    """A new handover code for a running chat, sent to the visitor with two links."""
    offer = await handover.offer_handover(session, services, staff, conversation_id, utcnow())
    return HandoverOut(
        code=offer.code, meeting_url=offer.meeting_url, booking_url=offer.booking_url
    )
