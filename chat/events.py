"""What travels over Redis pub/sub and the sockets: one shape per event, built here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation, Message, Sender
from chat.labels import SYSTEM_NOTICES
from clb.db import after_commit
from clb.i18n import gettext
from clb.redis import Keys
from clb.services import Services


def conversation_channel(keys: Keys, conversation_id: uuid.UUID) -> str:
    return keys.channel("conv", str(conversation_id))


def queue_channel(keys: Keys) -> str:
    return keys.channel("queue")


def supervision_channel(keys: Keys) -> str:
    """Events for coordinators' dashboards: flags, queue health changes."""
    return keys.channel("supervision")


# Events on a staff member's own channel (clb.auth.service.staff_channel) that their open
# consoles pass on to the browser unchanged. Add a type here to deliver it to one person.
CONSOLE_FORWARDED = frozenset(
    {"whisper", "transferred_to_you", "transferred_away", "duty", "flagged", "flag_dismissed"}
)


def publish_after_commit(
    session: AsyncSession, services: Services, channel: str, event: dict[str, Any]
) -> None:
    """Nobody hears of a change that was rolled back: the event leaves only after commit."""
    after_commit(session, lambda: services.bus.publish(channel, event))


def queue_changed() -> dict[str, Any]:
    """Only *that* the queue moved: each listener reads the queue it may see."""
    return {"type": "queue_changed"}


def publish_queue_moved(session: AsyncSession, services: Services) -> None:
    publish_after_commit(session, services, queue_channel(services.keys), queue_changed())


def presence_event(
    conversation_id: uuid.UUID, *, since: float | None, left: bool = False
) -> dict[str, Any]:
    """Whether the visitor has a chat page open; if not, since when (epoch seconds; 0 =
    never seen) and whether they left on purpose (quick exit). For the counsellor only."""
    away_since = datetime.fromtimestamp(since, UTC).isoformat() if since else None
    return {
        "type": "presence",
        "conversation_id": str(conversation_id),
        "present": since is None and not left,
        "since": away_since,
        "left": left,
    }


def publish_status(
    session: AsyncSession, services: Services, conversation: Conversation, counsellor: str | None
) -> None:
    """The conversation's new status to everyone on it (visitor, consoles, readers)."""
    publish_after_commit(
        session,
        services,
        conversation_channel(services.keys, conversation.id),
        status_event(conversation, counsellor),
    )


def system_body(notice: str, **params: object) -> str:
    return orjson.dumps({"notice": notice, "params": params}).decode()


def render_body(message: Message | dict[str, Any]) -> str:
    """The text a person sees; system notices in the reader's language."""
    sender = message.sender if isinstance(message, Message) else message["sender"]
    body = message.body if isinstance(message, Message) else message["raw_body"]
    if sender != Sender.system.value:
        return str(body)
    notice = orjson.loads(body)
    template = SYSTEM_NOTICES.get(notice.get("notice"), "")
    return gettext(template).format(**notice.get("params", {}))


def message_event(message: Message, author: str) -> dict[str, Any]:
    """Published after commit. ``raw_body`` is rendered per socket (system notices)."""
    return {
        "type": "message",
        "conversation_id": str(message.conversation_id),
        "seq": message.seq,
        "sender": message.sender,
        "author": author,
        "raw_body": message.body,
        "ts": message.created_at.isoformat(),
        "client_msg_id": str(message.client_msg_id) if message.client_msg_id else None,
    }


def message_frame(event: dict[str, Any]) -> dict[str, Any]:
    frame = {key: value for key, value in event.items() if key != "raw_body"}
    frame["body"] = render_body(event)
    return frame


def status_event(conversation: Conversation, counsellor: str | None) -> dict[str, Any]:
    return {
        "type": "status",
        "conversation_id": str(conversation.id),
        "status": conversation.status,
        "counsellor": counsellor,
    }


def ack_frame(message: Message) -> dict[str, Any]:
    return {
        "type": "ack",
        "conversation_id": str(message.conversation_id),
        "client_msg_id": str(message.client_msg_id),
        "seq": message.seq,
        "ts": message.created_at.isoformat(),
    }
