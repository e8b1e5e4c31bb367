"""The handover from chat to a face-to-face contact: a code the visitor got in a chat
(chat.handover) links a booking or a face-to-face request to that conversation, so whoever
picks it up sees the chat's outcome — topics, referrals, the short summary — and never the
transcript.

Only the conversation's id is kept with the appointment or request, not the code: the code
is stored nowhere in plain text, and a later code for the same chat (an earlier one then
stops working) does not cut the link. What is shown goes with the chat's retention purge.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chat.public import HandoverSummary, find_handover
from scheduling.errors import InvalidBooking

CODE_MAX = 40
UNKNOWN_CODE = "Deze code kennen we niet. Kijk ze na of laat het vak leeg."


def typed_code(raw: object) -> str:
    """The code as typed (trimmed and cut to size), or "" for none."""
    return raw.strip()[:CODE_MAX] if isinstance(raw, str) else ""


async def check_code(
    session: AsyncSession, code: str | None, *, field: str = "code"
) -> HandoverSummary | None:
    """The chat behind a typed code; None when no code was typed. A code that opens
    nothing (unknown, mistyped, or its chat purged) is InvalidBooking on ``field``: the
    visitor typed it on purpose, so it is not silently dropped."""
    if not code or not code.strip():
        return None
    found = await find_handover(session, code)
    if found is None:
        raise InvalidBooking(UNKNOWN_CODE, field=field)
    return found
