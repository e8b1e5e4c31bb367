"""What the chat sockets share: accepting the socket, the hello handshake, reading frames,
conversation summaries, typing, flood control, and the staff sockets' own channel. See
docs/chat-protocol.md."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import WebSocket
from sqlalchemy.ext.asyncio import AsyncSession

from chat.console import repository as staff_repository
from chat.conversations.models import Conversation, Message, Sender
from chat.conversations.schemas import PROTOCOL_VERSION
from chat.errors import InvalidFrame
from chat.events import ack_frame, conversation_channel
from chat.realtime.connection import (
    CLOSE_TRY_AGAIN,
    Connection,
    ConversationFeed,
    serve_socket,
)
from chat.realtime.restart import LiveSockets
from clb.auth import service as auth_service
from clb.auth.models import StaffAccount, StaffSession
from clb.db import commit
from clb.errors import ClbError, TemporarilyUnavailable
from clb.health.outage import is_outage, note_outage
from clb.ratelimit import LocalLimits, Rate
from clb.services import Services
from clb.web.deps import session_cookie_name
from clb.web.security import accept_websocket_from_allowed_origin

log = logging.getLogger(__name__)

HELLO_TIMEOUT = 10.0
QUEUE_REFRESH_SECONDS = 30.0
PRESENCE_EVERY = 10.0
CLOSE_UNAUTHENTICATED = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_NO_HELLO = 4008
# Refused for now (too many windows or chats from one network): the page shows why and
# tries again later by itself.
CLOSE_REFUSED = 4029
TYPING = Rate(4, 2)
# The other page shows "… typt" for 6 s after the last `typing`: a repeat sooner is not
# passed on more often than this.
TYPING_REFRESH_SECONDS = 2.0
RATE_LIMITED = "Je stuurt te veel berichten na elkaar. Wacht even."

SocketHandler = Callable[[Connection, Services], Awaitable[None]]


async def accept_and_serve(
    websocket: WebSocket, services: Services, handler: SocketHandler, kind: str
) -> None:
    """How every chat socket starts: refuse a page from another origin, then serve the
    socket with ``handler`` until either side is done."""
    if not await accept_websocket_from_allowed_origin(websocket):
        return
    connection = Connection(websocket)
    sockets = services.metrics.sockets.labels(kind)
    sockets.inc()
    live = LiveSockets.of(services)
    live.add(connection)
    try:
        await serve_socket(connection, handler(connection, services))
    finally:
        live.discard(connection)
        sockets.dec()


async def receive_hello(connection: Connection, adapter: Any) -> Any:
    try:
        hello = await asyncio.wait_for(connection.receive(adapter), HELLO_TIMEOUT)
    except TimeoutError:
        connection.close(CLOSE_NO_HELLO, "no hello")
        return None
    except InvalidFrame as error:
        connection.send_error(error)
        connection.close(CLOSE_NO_HELLO, "bad hello")
        return None
    if hello.v != PROTOCOL_VERSION:
        connection.send({"type": "error", "code": "unsupported_version", "message": ""})
        connection.close(1008, "unsupported version")
        return None
    return hello


def _frame_conversation(frame: Any) -> uuid.UUID | None:
    conversation_id: uuid.UUID | None = getattr(frame, "conversation_id", None)
    return conversation_id


async def read_frames(
    connection: Connection,
    adapter: Any,
    handle: Callable[[Any], Awaitable[None]],
    *,
    received: Callable[[Any], Awaitable[None]] | None = None,
    conversation_of: Callable[[Any], uuid.UUID | None] = _frame_conversation,
) -> None:
    """Validate and handle frames until the socket closes. A bad or refused frame is
    answered with an error frame (naming the conversation it was about) and the socket
    stays open; ``received`` sees every valid frame before it is handled. Once the socket
    is closing, nothing more is handled: an answer could no longer reach the page, which
    sends the frame again after its reconnect."""
    while not connection.closing:
        try:
            frame = await connection.receive(adapter)
        except ClbError as error:
            connection.send_error(error)
            continue
        if connection.closing:
            return
        connection.busy = True  # no await since receive: a restart now waits for the answer
        try:
            await _handle_one(connection, frame, handle, received, conversation_of)
        finally:
            connection.busy = False
        if connection.restarting:
            connection.restart()  # now that the frame is answered


async def _handle_one(
    connection: Connection,
    frame: Any,
    handle: Callable[[Any], Awaitable[None]],
    received: Callable[[Any], Awaitable[None]] | None,
    conversation_of: Callable[[Any], uuid.UUID | None],
) -> None:
    try:
        if received is not None:
            await received(frame)
        await handle(frame)
    except ClbError as error:
        connection.send_error(error, conversation_of(frame))
    except Exception as error:
        # Redis or PostgreSQL away: this frame is answered, and the socket reads on.
        if not is_outage(error):
            raise
        note_outage(log, "chat frame", error)
        connection.send_error(TemporarilyUnavailable(), conversation_of(frame))


async def staff_session_of(connection: Connection, services: Services) -> StaffSession | None:
    """The staff login behind the socket's session cookie (checked like an HTTP request)."""
    token = connection.websocket.cookies.get(session_cookie_name(services.settings))
    if not token:
        return None
    async with services.sessionmaker() as session:
        staff_session = await auth_service.resolve_session(session, token, services.settings)
    if staff_session is not None and staff_session.enrolment_only:
        return None  # a session that may only set up its second factor opens no console
        await commit(session)
    return staff_session


def conversation_summary(conversation: Conversation, counsellor: str | None) -> dict[str, Any]:
    return {
        "id": str(conversation.id),
        "status": conversation.status,
        "nickname": conversation.nickname,
        "who": conversation.who,
        "age_band": conversation.age_band,
        "topic": conversation.topic,
        "subject": conversation.subject,
        "language": conversation.language,
        "flagged": conversation.flagged_at is not None,  # crisis triage; staff only
        "counsellor": counsellor,
        "last_seq": conversation.last_seq,
        "created_at": conversation.created_at.isoformat(),
        "claimed_at": conversation.claimed_at.isoformat() if conversation.claimed_at else None,
        "talk_started_at": (
            conversation.talk_started_at.isoformat() if conversation.talk_started_at else None
        ),
        "time_limit_minutes": conversation.time_limit_minutes,
        "visitor_left_at": (
            conversation.visitor_left_at.isoformat() if conversation.visitor_left_at else None
        ),
        "read_seq": {
            "visitor": conversation.visitor_read_seq,
            "counsellor": conversation.counsellor_read_seq,
        },
    }


def visitor_summary(conversation: Conversation, counsellor: str | None) -> dict[str, Any]:
    """The summary a visitor's own socket may see: never whether triage flagged them."""
    summary = conversation_summary(conversation, counsellor)
    del summary["flagged"]
    return summary


async def counsellor_name(session: AsyncSession, conversation: Conversation) -> str | None:
    if conversation.counsellor_id is None:
        return None
    staff = await staff_repository.staff_account(session, conversation.counsellor_id)
    return staff.display_name if staff else None


async def publish_typing(
    services: Services, conversation_id: uuid.UUID, sender: Sender, active: bool
) -> None:
    event = {
        "type": "typing",
        "conversation_id": str(conversation_id),
        "sender": sender.value,
        "active": active,
    }
    await services.bus.publish(conversation_channel(services.keys, conversation_id), event)


class TypingRelay:
    """Which of a socket's ``typing`` frames go on to the other side: a change at once, the
    same state again only after TYPING_REFRESH_SECONDS, and never more than the TYPING pace
    (no Redis round trip: a socket's own count)."""

    def __init__(self) -> None:
        self.pace = LocalLimits()
        self.last: dict[uuid.UUID, tuple[bool, float]] = {}  # per chat: state, when passed on

    def passes(self, conversation_id: uuid.UUID, active: bool) -> bool:
        now = time.monotonic()
        previous = self.last.get(conversation_id)
        if previous is not None and previous[0] == active:
            if not active or now - previous[1] < TYPING_REFRESH_SECONDS:
                return False
        if not self.pace.run("typing", TYPING, consume=True).allowed:
            return False
        self.last[conversation_id] = (active, now)
        return True


def acknowledge(
    connection: Connection, services: Services, message: Message, started: float
) -> None:
    """The ack for a stored message (the send's round trip ends here, in the metrics too)."""
    connection.send(ack_frame(message))
    services.metrics.send_ack.observe(time.perf_counter() - started)
    services.metrics.messages.labels(message.sender).inc()


async def check_rate(services: Services, name: str, rate: Rate) -> None:
    decision = await services.limiter.hit(name, rate)
    decision.raise_if_denied(RATE_LIMITED)


async def check_staff_rate(services: Services, staff_id: uuid.UUID) -> None:
    """One staff member's messages, all their chats and whispers together."""
    rate = Rate(services.settings.chat_staff_rate_per_minute, 60)
    await check_rate(services, f"chat:staff:{staff_id}", rate)


class StaffSocket:
    """A staff member's socket (console or supervision): who, on which connection, and the
    conversations it follows, one feed task each."""

    def __init__(
        self,
        connection: Connection,
        services: Services,
        staff: StaffAccount,
        session_id: uuid.UUID,
    ) -> None:
        self.connection = connection
        self.services = services
        self.staff = staff
        self.session_id = session_id
        self.feeds: dict[uuid.UUID, asyncio.Task[None]] = {}
        self.followed: dict[uuid.UUID, ConversationFeed] = {}

    frames: Any  # the TypeAdapter of the frames this socket accepts

    async def handle(self, frame: Any) -> None:
        raise NotImplementedError

    async def received(self, frame: Any) -> None:
        """Every valid frame, before it is handled."""

    async def read_frames(self) -> None:
        await read_frames(self.connection, self.frames, self.handle, received=self.received)

    async def watch_staff_channel(self) -> None:
        """Logging out elsewhere, a deactivated account or sessions a coordinator ended close
        this socket at once (R14); the other events on the staff member's own channel go to
        ``on_staff_event``."""
        channel = auth_service.staff_channel(self.services.keys, self.staff.id)
        async with self.services.bus.subscribe(channel) as events:
            async for event in events:
                data = event.data or {}
                ended = data.get("session_ids") or ()
                if data.get("type") == "session_ended" and str(self.session_id) in ended:
                    self.connection.close(CLOSE_UNAUTHENTICATED, "logged out")
                    return
                await self.on_staff_event(data)

    async def on_staff_event(self, data: dict[str, Any]) -> None:
        """An event on the staff member's own channel other than a logout."""

    def run_feed(self, conversation_id: uuid.UUID, feed: ConversationFeed) -> None:
        """Follow the conversation with ``feed``, instead of any earlier feed of it."""
        self.unfollow(conversation_id)
        task = asyncio.create_task(feed.run())
        task.add_done_callback(self._feed_done)
        self.feeds[conversation_id] = task
        self.followed[conversation_id] = feed

    def _feed_done(self, task: asyncio.Task[None]) -> None:
        """A feed that failed (an outage while replaying) would leave a chat silent: the
        socket closes with 1013 instead, and the page reconnects and resumes."""
        error = None if task.cancelled() else task.exception()
        if error is None:
            return
        if is_outage(error):
            note_outage(log, "conversation feed", error)
        else:
            log.error("conversation feed failed", exc_info=error)
        self.connection.close(CLOSE_TRY_AGAIN, "")

    def live_feed(self, conversation_id: uuid.UUID) -> ConversationFeed | None:
        """The feed of a conversation this socket follows now (None once it has ended)."""
        feed = self.followed.get(conversation_id)
        task = self.feeds.get(conversation_id)
        if feed is None or task is None or task.done() or feed.finished:
            return None
        return feed

    def unfollow(self, conversation_id: uuid.UUID) -> None:
        self.followed.pop(conversation_id, None)
        task = self.feeds.pop(conversation_id, None)
        if task is not None:
            task.cancel()

    async def stop_feeds(self) -> None:
        for task in self.feeds.values():
            task.cancel()
        await asyncio.gather(*self.feeds.values(), return_exceptions=True)
