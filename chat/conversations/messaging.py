"""Messages and read receipts: the hot path of every chat, checked on every frame.

The conversation row is the lock: whoever stores a message takes the next ``seq`` under it,
and every event is published after commit, so nobody ever sees a message that is not stored.
"""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import repository
from chat.conversations.group_commit import MessageBatcher, Outgoing
from chat.conversations.models import OPEN_STATUSES, Conversation, Message, Sender, Status
from chat.conversations.receipt_marks import ReceiptMarks
from chat.errors import ConversationClosed, NotAllowed
from chat.events import conversation_channel, message_event, publish_after_commit
from chat.triage import service as triage
from clb.auth.models import StaffAccount
from clb.db import commit, rollback
from clb.services import Services


async def post_notice(
    session: AsyncSession,
    services: Services,
    conversation: Conversation,
    body: str,
    *,
    author: StaffAccount | None = None,
) -> None:
    """Store a system notice under the conversation's lock (the caller holds it)."""
    conversation.last_seq += 1
    message = Message(
        conversation_id=conversation.id,
        seq=conversation.last_seq,
        sender=Sender.system.value,
        author_id=author.id if author else None,
        body=body,
    )
    session.add(message)
    await session.flush()
    publish_after_commit(
        session,
        services,
        conversation_channel(services.keys, conversation.id),
        message_event(message, author.display_name if author else ""),
    )


async def _locked_open(session: AsyncSession, conversation_id: uuid.UUID) -> Conversation:
    conversation = await repository.lock_conversation(session, conversation_id)
    if conversation is None:
        raise NotAllowed()
    return conversation


async def locked_for_visitor(
    session: AsyncSession, visitor_id: uuid.UUID, conversation_id: uuid.UUID
) -> Conversation:
    """The conversation, locked, if it is this visitor's — checked on every frame."""
    conversation = await _locked_open(session, conversation_id)
    if conversation.visitor_id != visitor_id:
        raise NotAllowed()
    return conversation


async def locked_for_counsellor(
    session: AsyncSession, staff: StaffAccount, conversation_id: uuid.UUID
) -> Conversation:
    """The conversation, locked, if this counsellor holds it — checked on every frame."""
    conversation = await _locked_open(session, conversation_id)
    if conversation.counsellor_id != staff.id:
        raise NotAllowed()
    return conversation


async def _send(
    session: AsyncSession,
    services: Services,
    conversation_id: uuid.UUID,
    sender: Sender,
    body: str,
    client_msg_id: uuid.UUID,
    *,
    owner_column: repository.OwnerColumn,
    owner_id: uuid.UUID,
    statuses: tuple[str, ...],
    author: StaffAccount | None,
) -> Message:
    """The hot path: one statement stores the message with its seq. A resend of a known
    ``client_msg_id`` returns the original (the same ack); a refused send says why."""
    try:
        stored = await repository.append_message(
            session,
            conversation_id=conversation_id,
            owner_column=owner_column,
            owner_id=owner_id,
            statuses=statuses,
            sender=sender.value,
            body=body,
            client_msg_id=client_msg_id,
            author_id=author.id if author else None,
        )
    except IntegrityError:
        await rollback(session)
        stored = None
    else:
        if stored is not None:
            message = Message(
                id=stored.id,
                conversation_id=conversation_id,
                seq=stored.seq,
                sender=sender.value,
                author_id=author.id if author else None,
                client_msg_id=client_msg_id,
                body=body,
                created_at=stored.created_at,
            )
            publish_after_commit(
                session,
                services,
                conversation_channel(services.keys, conversation_id),
                message_event(message, author.display_name if author else stored.nickname),
            )
            return message
    return await _not_stored(
        session, conversation_id, sender, client_msg_id, owner_column, owner_id
    )


async def _not_stored(
    session: AsyncSession,
    conversation_id: uuid.UUID,
    sender: Sender,
    client_msg_id: uuid.UUID,
    owner_column: repository.OwnerColumn,
    owner_id: uuid.UUID,
) -> Message:
    """Why a send stored nothing: a resend (the original is returned), not the sender's
    conversation (NotAllowed) or no longer open (ConversationClosed)."""
    existing = await repository.find_message(session, conversation_id, sender.value, client_msg_id)
    if existing is not None:
        return existing
    owner = getattr(Conversation, owner_column) == owner_id
    if not await repository.conversation_matches(session, conversation_id, owner):
        raise NotAllowed()
    raise ConversationClosed()


async def send_from_socket(
    services: Services, outgoing: Outgoing, author: StaffAccount | None = None
) -> Message:
    """A message sent on a chat socket, stored by group commit (``group_commit``) and
    published once stored. A visitor's message that triage flags takes the path that
    stores it and its flag in one transaction."""
    visitor = outgoing.sender == Sender.visitor
    if visitor and await triage.would_flag(services, outgoing.body):
        async with services.sessionmaker() as session:
            message = await visitor_send(
                session,
                services,
                outgoing.owner_id,
                outgoing.conversation_id,
                outgoing.client_msg_id,
                outgoing.body,
            )
            await commit(session)
        return message
    stored = await MessageBatcher.of(services).append(outgoing)
    if stored is None:
        owner_column: repository.OwnerColumn = "visitor_id" if visitor else "counsellor_id"
        async with services.sessionmaker() as session:
            return await _not_stored(
                session,
                outgoing.conversation_id,
                outgoing.sender,
                outgoing.client_msg_id,
                owner_column,
                outgoing.owner_id,
            )
    message = Message(
        id=stored.id,
        conversation_id=outgoing.conversation_id,
        seq=stored.seq,
        sender=outgoing.sender.value,
        author_id=outgoing.author_id,
        client_msg_id=outgoing.client_msg_id,
        body=outgoing.body,
        created_at=stored.created_at,
    )
    channel = conversation_channel(services.keys, outgoing.conversation_id)
    await services.bus.publish(
        channel, message_event(message, author.display_name if author else stored.nickname)
    )
    return message


async def visitor_send(
    session: AsyncSession,
    services: Services,
    visitor_id: uuid.UUID,
    conversation_id: uuid.UUID,
    client_msg_id: uuid.UUID,
    body: str,
) -> Message:
    message = await _send(
        session,
        services,
        conversation_id,
        Sender.visitor,
        body,
        client_msg_id,
        owner_column="visitor_id",
        owner_id=visitor_id,
        statuses=OPEN_STATUSES,
        author=None,
    )
    await triage.check_message(session, services, message)  # crisis triage, same transaction
    return message


async def counsellor_send(
    session: AsyncSession,
    services: Services,
    staff: StaffAccount,
    conversation_id: uuid.UUID,
    client_msg_id: uuid.UUID,
    body: str,
) -> Message:
    return await _send(
        session,
        services,
        conversation_id,
        Sender.counsellor,
        body,
        client_msg_id,
        owner_column="counsellor_id",
        owner_id=staff.id,
        statuses=(Status.active.value,),
        author=staff,
    )


async def announce_receipt(
    services: Services,
    conversation_id: uuid.UUID,
    by: Sender,
    owner_id: uuid.UUID,
    kind: repository.ReceiptKind,
    seq: int,
) -> None:
    """Tell the other side at once how far this side received/read; the mark is written
    with others later (``receipt_marks``). The socket has checked that the conversation is
    ``owner_id``'s and that ``seq`` moves forward and was sent to it."""
    ReceiptMarks.of(services).note(conversation_id, by, owner_id, kind, seq)
    event = {
        "type": "receipt",
        "conversation_id": str(conversation_id),
        "by": by.value,
        "kind": kind,
        "seq": seq,
    }
    await services.bus.publish(conversation_channel(services.keys, conversation_id), event)
