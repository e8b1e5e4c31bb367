"""Who may read along with a chat, and whisper in it (issue 14): the rule, its typed
refusals, and the audit entry of a refused attempt.

A coordinator (or an admin, by the same rule) reads along only with a chat that a counsellor
of their own centre holds, and only while that centre allows it (``Centre.chat_read_along``,
off unless an admin turns it on at ``/console/meelezen``). A chat still waiting is nobody's
centre yet, so it is refused too. The pre-chat privacy notice names the coordinator exactly
when some centre allows it; the audit log records every read (``conversation.read_along``)
and every refused attempt (``conversation.read_along_refused``), never as a read.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation
from chat.supervision import repository as sup_repo
from chat.supervision.audit_reads import READ_ALONG_REFUSED, record_read_along_refused
from clb.auth.models import StaffAccount
from clb.errors import ClbError

# A reconnecting read-along socket (or the page and its socket) is the same opening, not a
# new read: one audit entry per coordinator and conversation within this window.
READ_ALONG_AUDIT_WINDOW = timedelta(minutes=1)


class Refusal(enum.StrEnum):
    """Why a coordinator may not read along with (or whisper in) a chat."""

    waiting = "waiting"  # no counsellor holds it yet: it is no centre's chat
    other_centre = "other_centre"  # held by a counsellor of another centre
    centre_off = "centre_off"  # the reader's centre does not allow reading along


def read_along_refusal(
    counsellor_centre: uuid.UUID | None, reader_centre: uuid.UUID, centre_allows: bool
) -> Refusal | None:
    """The read-along rule, the same for coordinators and admins: only a chat that a
    counsellor of the reader's own centre holds, and only while that centre allows it
    (``Centre.chat_read_along``, off unless an admin turns it on). That is what the pupils
    were told before the chat: the privacy notice names the coordinator only when some
    centre allows it. ``counsellor_centre`` is None for a chat nobody holds."""
    if counsellor_centre is None:
        return Refusal.waiting
    if counsellor_centre != reader_centre:
        return Refusal.other_centre
    if not centre_allows:
        return Refusal.centre_off
    return None


class ReadAlongRefused(ClbError):
    status = 403
    code = "read_along_refused"
    message = (
        "Meelezen kan hier niet: je centrum laat het niet toe, of het gesprek is van een "
        "ander centrum. Zo hebben we het de jongeren ook beloofd."
    )
    reason: ClassVar[Refusal | None] = None

    def __init__(self) -> None:
        super().__init__(details={"reason": self.reason.value} if self.reason else None)


class ChatStillWaiting(ReadAlongRefused):
    message = (
        "Dit gesprek wacht nog op een hulpverlener. Meelezen kan pas als een hulpverlener "
        "van je centrum het heeft."
    )
    reason = Refusal.waiting


class OtherCentresChat(ReadAlongRefused):
    message = (
        "Dit gesprek is van een ander centrum. Je kunt alleen meelezen met de gesprekken "
        "van je eigen centrum."
    )
    reason = Refusal.other_centre


class CentreDoesNotReadAlong(ReadAlongRefused):
    message = "Meelezen staat uit voor je centrum. Een beheerder van je centrum kan het aanzetten."
    reason = Refusal.centre_off


REFUSED: dict[Refusal, type[ReadAlongRefused]] = {
    Refusal.waiting: ChatStillWaiting,
    Refusal.other_centre: OtherCentresChat,
    Refusal.centre_off: CentreDoesNotReadAlong,
}


async def check_read_along(
    session: AsyncSession, reader: StaffAccount, conversation: Conversation
) -> None:
    """Raise the ReadAlongRefused that says why, unless read_along_refusal allows it."""
    held_by = conversation.counsellor_id
    counsellor_centre = None if held_by is None else await sup_repo.centre_of(session, held_by)
    allows = await sup_repo.centre_reads_along(session, reader.centre_id)
    refusal = read_along_refusal(counsellor_centre, reader.centre_id, allows)
    if refusal is not None:
        raise REFUSED[refusal]()


async def audit_refusal(
    session: AsyncSession, reader: StaffAccount, conversation_id: uuid.UUID, now: datetime
) -> None:
    """A refused attempt is no read: it is recorded as a refusal (once per window, so a
    reconnecting socket does not fill the log), never as ``conversation.read_along``. The
    caller commits it, although the request itself fails."""
    if not await sup_repo.recent_audit(
        session, reader.id, READ_ALONG_REFUSED, str(conversation_id), now - READ_ALONG_AUDIT_WINDOW
    ):
        record_read_along_refused(session, reader.id, conversation_id)
