"""Private notes on a conversation: staff-only text, never sent to the visitor.

Notes live in their own table (``conversation_notes``), not among the messages, so no
visitor path (the socket replay, the transcript download) can ever reach them. Handover
notes (a warm transfer) and whispers (supervision) share the table and are listed here too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import repository
from chat.counsellor_tools import repository as repo
from chat.counsellor_tools.models import NoteKind
from chat.errors import NotAllowed
from clb.audit import record_audit
from clb.auth.models import Role, StaffAccount
from clb.errors import ClbError, NotFound

NOTE_MAX = 2000

NOTE_KIND_LABELS = {
    NoteKind.note.value: "Notitie",
    NoteKind.handover.value: "Overdracht",
    NoteKind.whisper.value: "Fluisterbericht",
}


class InvalidNote(ClbError):
    status = 422
    code = "invalid_note"
    message = "Schrijf een notitie van hoogstens 2000 tekens."


@dataclass(frozen=True)
class NoteView:
    id: int
    kind: str
    author: str
    body: str
    created_at: datetime


async def _access(
    session: AsyncSession, staff: StaffAccount, conversation_id: uuid.UUID
) -> tuple[bool, bool]:
    """(held, coordinator): may this person see the notes, and in which capacity. A
    coordinator of another centre may not: what pupils were told about read-along holds
    for notes too."""
    if await repository.get_conversation(session, conversation_id) is None:
        raise NotFound()
    held = await repo.has_held(session, conversation_id, staff.id)
    # A coordinator supervises their own centre's counsellors only, as with read-along.
    coordinator = staff.has_role(Role.coordinator) and await repo.held_in_centre(
        session, conversation_id, staff.centre_id
    )
    if not held and not coordinator:
        raise NotAllowed()
    return held, coordinator


async def list_notes(
    session: AsyncSession, staff: StaffAccount, conversation_id: uuid.UUID
) -> list[NoteView]:
    """The notes this person may read. A coordinator who never held the chat reads as a
    supervisor: that read is audited (who, which conversation — never the content)."""
    held, coordinator = await _access(session, staff, conversation_id)
    if not held:
        record_audit(
            session,
            "conversation.notes_read",
            actor_id=staff.id,
            object_type="conversation",
            object_id=str(conversation_id),
        )
    views = []
    for note, author in await repo.notes_of(session, conversation_id):
        # A whisper is between a coordinator and one counsellor.
        if (
            note.kind == NoteKind.whisper.value
            and not coordinator
            and staff.id not in (note.author_id, note.recipient_id)
        ):
            continue
        views.append(NoteView(note.id, note.kind, author or "", note.body, note.created_at))
    return views


def clean_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise InvalidNote("Schrijf eerst een notitie.")
    if len(text) > NOTE_MAX:
        raise InvalidNote("Je notitie is te lang: hoogstens 2000 tekens.")
    return text


async def add_note(
    session: AsyncSession,
    staff: StaffAccount,
    conversation_id: uuid.UUID,
    body: str,
    now: datetime,
) -> NoteView:
    """A private note by someone who holds or held the chat, or a coordinator."""
    text = clean_body(body)
    await _access(session, staff, conversation_id)
    note = await repo.add_note(session, conversation_id, NoteKind.note.value, staff.id, text, now)
    return NoteView(note.id, note.kind, staff.display_name, note.body, note.created_at)
