"""Handing a chat on. Warm: to a named colleague who is available and has room, with a
private handover note; the conversation keeps its id and its ``seq`` goes on, so the
visitor never has to repeat themselves. Cold: back to the queue at its original place
(``created_at`` and ``priority`` unchanged; ``claimed_at`` keeps the first claim so wait
statistics stay true).

Only the counsellor who holds the chat may hand it on; that is checked under the
conversation's row lock on every frame.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chat.console import duty
from chat.console import repository as staff_repository
from chat.console.models import ConversationTransfer, TransferKind
from chat.conversations import repository, service
from chat.conversations.models import Conversation, Status
from chat.counsellor_tools.models import ConversationNote, NoteKind
from chat.errors import ColleagueUnavailable, ConversationClosed
from chat.events import publish_after_commit, publish_queue_moved, publish_status, system_body
from chat.realtime import presence
from clb.audit import record_audit
from clb.auth.models import Role, StaffAccount
from clb.auth.service import staff_channel
from clb.services import Services


async def colleagues(
    session: AsyncSession, services: Services, staff: StaffAccount
) -> list[dict[str, Any]]:
    """Who could take a chat over right now: available (on duty, console open) with room."""
    loads = await duty.available_counsellors(session, services)
    return [
        {
            "id": str(load.staff_id),
            "name": load.display_name,
            "centre": load.centre,
            "active": load.active,
            "max_chats": load.max_chats,
        }
        for load in loads
        if load.staff_id != staff.id and load.free > 0
    ]


async def _held_active(
    session: AsyncSession, staff: StaffAccount, conversation_id: uuid.UUID
) -> Conversation:
    conversation = await service.locked_for_counsellor(session, staff, conversation_id)
    if conversation.status != Status.active.value:
        raise ConversationClosed()
    return conversation


async def _available_colleague(
    session: AsyncSession, services: Services, staff: StaffAccount, to_id: uuid.UUID
) -> StaffAccount:
    colleague = await staff_repository.staff_account(session, to_id)
    if (
        colleague is None
        or colleague.id == staff.id
        or not colleague.is_active
        or not colleague.has_role(Role.counsellor)
        or colleague.id not in await presence.fresh_counsellors(services.redis, services.keys)
    ):
        raise ColleagueUnavailable()
    # The colleague's claim lock: a claim of theirs on another instance cannot slip past
    # their maximum at the same moment.
    default = services.settings.chat_counsellor_capacity
    if not await repository.lock_claims_and_check(session, colleague.id, default):
        raise ColleagueUnavailable()
    return colleague


def _record_transfer(
    session: AsyncSession,
    conversation: Conversation,
    staff: StaffAccount,
    colleague: StaffAccount | None,
    now: datetime,
    *,
    note: str | None = None,
) -> None:
    """The transfer row, the private handover note to the colleague, and the audit line."""
    session.add(
        ConversationTransfer(
            conversation_id=conversation.id,
            kind=(TransferKind.warm if colleague else TransferKind.cold).value,
            from_id=staff.id,
            to_id=colleague.id if colleague else None,
            created_at=now,
        )
    )
    if note and colleague is not None:
        session.add(
            ConversationNote(
                conversation_id=conversation.id,
                kind=NoteKind.handover.value,
                author_id=staff.id,
                recipient_id=colleague.id,
                body=note,
                created_at=now,
            )
        )
    record_audit(
        session,
        "chat.transferred" if colleague else "chat.requeued",
        actor_id=staff.id,
        object_type="conversation",
        object_id=str(conversation.id),
    )


def _announce(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    conversation: Conversation,
    colleague: StaffAccount | None,
    note: str | None = None,
) -> None:
    """The new status to the chat; the colleague's consoles open it with the note; the
    sender's consoles close its panel."""
    keys = services.keys
    publish_status(session, services, conversation, colleague.display_name if colleague else None)
    if colleague is not None:
        publish_after_commit(
            session,
            services,
            staff_channel(keys, colleague.id),
            {
                "type": "transferred_to_you",
                "conversation_id": str(conversation.id),
                "from": staff.display_name,
                "note": note or "",
            },
        )
    publish_after_commit(
        session, services, staff_channel(keys, staff.id), _away(conversation, colleague)
    )


async def warm_transfer(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    conversation_id: uuid.UUID,
    to_id: uuid.UUID,
    note: str | None,
    now: datetime,
) -> StaffAccount:
    conversation = await _held_active(session, staff, conversation_id)
    colleague = await _available_colleague(session, services, staff, to_id)
    conversation.counsellor_id = colleague.id
    _record_transfer(session, conversation, staff, colleague, now, note=note)
    await service.post_notice(
        session,
        services,
        conversation,
        system_body("transferred", name=colleague.display_name),
        author=colleague,
    )
    _announce(session, services, staff, conversation, colleague, note)
    return colleague


async def cold_transfer(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    conversation_id: uuid.UUID,
    now: datetime,
) -> None:
    conversation = await _held_active(session, staff, conversation_id)
    conversation.status = Status.waiting.value
    conversation.counsellor_id = None
    _record_transfer(session, conversation, staff, None, now)
    await service.post_notice(session, services, conversation, system_body("requeued"))
    # The time limit starts again with the next claim, which plans new notices.
    await service.cancel_time_notices(session, conversation)
    _announce(session, services, staff, conversation, None)
    publish_queue_moved(session, services)


def _away(conversation: Conversation, colleague: StaffAccount | None) -> dict[str, Any]:
    """For the sender's open consoles: close this chat's panel."""
    return {
        "type": "transferred_away",
        "conversation_id": str(conversation.id),
        "to": colleague.display_name if colleague else None,
    }


async def handovers_for(
    session: AsyncSession, staff: StaffAccount, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, str]]:
    """The latest handover note to this counsellor per conversation (for a reconnect)."""
    rows = await repository.handover_notes(session, staff.id, conversation_ids)
    return {cid: {"from": author or "", "note": body} for cid, author, body in rows}
