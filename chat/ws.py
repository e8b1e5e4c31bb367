"""The two chat sockets: ``/ws/chat`` for visitors, ``/ws/console`` for counsellors.

Every frame is validated and authorised against the conversation it concerns; a refused
frame gets an ``error`` frame and the socket stays open. See docs/chat-protocol.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

from fastapi import WebSocket
from sqlalchemy.ext.asyncio import AsyncSession

from chat import presence, repository, service
from chat.connection import Connection, ConversationFeed, run_until_first_done, serve_socket
from chat.errors import InvalidFrame, NotAllowed
from chat.events import ack_frame, conversation_channel, queue_channel
from chat.models import Conversation, Sender, Status
from chat.schemas import (
    PROTOCOL_VERSION,
    Claim,
    ConsoleHello,
    ConsoleReceipt,
    ConsoleSend,
    ConsoleTyping,
    End,
    Extend,
    Heartbeat,
    Leave,
    Open,
    Ping,
    VisitorHello,
    VisitorReceipt,
    VisitorSend,
    VisitorTyping,
    console_frames,
    visitor_frames,
)
from clb.auth import service as auth_service
from clb.auth.models import Role, StaffAccount
from clb.db import commit, utcnow
from clb.deps import session_cookie_name
from clb.errors import ClbError
from clb.ratelimit import Rate
from clb.security import accept_websocket_from_allowed_origin, hash_ip
from clb.services import Services

log = logging.getLogger(__name__)

HELLO_TIMEOUT = 10.0
QUEUE_REFRESH_SECONDS = 30.0
PRESENCE_EVERY = 10.0
CLOSE_UNAUTHENTICATED = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_NO_HELLO = 4008
STAFF_MESSAGES = Rate(120, 60)
TYPING = Rate(4, 2)
RATE_LIMITED = "Je stuurt te veel berichten na elkaar. Wacht even."


async def _hello(connection: Connection, adapter: Any) -> Any:
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


def _conversation_dict(conversation: Conversation, counsellor: str | None) -> dict[str, Any]:
    return {
        "id": str(conversation.id),
        "status": conversation.status,
        "nickname": conversation.nickname,
        "who": conversation.who,
        "topic": conversation.topic,
        "subject": conversation.subject,
        "counsellor": counsellor,
        "last_seq": conversation.last_seq,
        "created_at": conversation.created_at.isoformat(),
        "claimed_at": conversation.claimed_at.isoformat() if conversation.claimed_at else None,
        "time_limit_minutes": conversation.time_limit_minutes,
        "read_seq": {
            "visitor": conversation.visitor_read_seq,
            "counsellor": conversation.counsellor_read_seq,
        },
    }


async def _counsellor_name(session: AsyncSession, conversation: Conversation) -> str | None:
    if conversation.counsellor_id is None:
        return None
    staff = await session.get(StaffAccount, conversation.counsellor_id)
    return staff.display_name if staff else None


async def _publish_typing(
    services: Services, conversation_id: uuid.UUID, sender: Sender, active: bool
) -> None:
    event = {
        "type": "typing",
        "conversation_id": str(conversation_id),
        "sender": sender.value,
        "active": active,
    }
    await services.bus.publish(conversation_channel(services.keys, conversation_id), event)


# ---------------------------------------------------------------- visitors


async def visitor_socket(websocket: WebSocket, services: Services) -> None:
    if not await accept_websocket_from_allowed_origin(websocket):
        return
    connection = Connection(websocket)
    await serve_socket(connection, _visitor(connection, services))


async def _visitor(connection: Connection, services: Services) -> None:
    hello: VisitorHello | None = await _hello(connection, VisitorHello)
    if hello is None:
        return
    async with services.sessionmaker() as session:
        visitor = await auth_service.resolve_visitor(session, hello.token)
        conversation = await repository.get_conversation(session, hello.conversation_id)
        await commit(session)
    if visitor is None:
        connection.close(CLOSE_UNAUTHENTICATED, "unknown visitor")
        return
    if conversation is None or conversation.visitor_id != visitor.id:
        connection.close(CLOSE_FORBIDDEN, "not your conversation")
        return
    conversation_id, visitor_id = conversation.id, visitor.id
    address = hash_ip_of(connection, services)

    async def welcome() -> None:
        async with services.sessionmaker() as session:
            current = await repository.get_conversation(session, conversation_id)
            if current is None:
                return
            name = await _counsellor_name(session, current)
            connection.send(
                {
                    "type": "welcome",
                    "v": PROTOCOL_VERSION,
                    "conversation": _conversation_dict(current, name),
                }
            )

    feed = ConversationFeed(
        connection, services, conversation_id, hello.last_seq, Sender.visitor, on_ready=welcome
    )
    await presence.heard_from_visitor(services.redis, services.keys, conversation_id)
    try:
        await run_until_first_done(
            feed.run(),
            _queue_updates(connection, services, conversation_id),
            _visitor_frames(connection, services, visitor_id, conversation_id, address),
        )
    finally:
        with contextlib.suppress(Exception):
            await presence.visitor_left(services.redis, services.keys, conversation_id)


def hash_ip_of(connection: Connection, services: Services) -> str:
    client = connection.websocket.client
    return hash_ip(client.host if client else "unknown", services.settings.secret_key or "")


async def _queue_updates(
    connection: Connection, services: Services, conversation_id: uuid.UUID
) -> None:
    """While waiting: position and estimate, again whenever the queue moves (and every 30 s,
    as counsellors come and go)."""
    async with services.bus.subscribe(queue_channel(services.keys)) as moves:
        while True:
            async with services.sessionmaker() as session:
                conversation = await repository.get_conversation(session, conversation_id)
                if conversation is None or conversation.status != Status.waiting.value:
                    break
                connection.send(await service.queue_frame(session, services, conversation))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(moves.get(), QUEUE_REFRESH_SECONDS)
                await asyncio.sleep(0.1)  # let a burst of moves settle into one update
    await asyncio.Event().wait()  # served: nothing more to say, the socket goes on


async def _visitor_frames(
    connection: Connection,
    services: Services,
    visitor_id: uuid.UUID,
    conversation_id: uuid.UUID,
    address: str,
) -> None:
    last_presence = time.monotonic()
    while True:
        try:
            frame = await connection.receive(visitor_frames)
        except ClbError as error:
            connection.send_error(error)
            continue
        if time.monotonic() - last_presence > PRESENCE_EVERY:
            last_presence = time.monotonic()
            await presence.heard_from_visitor(services.redis, services.keys, conversation_id)
        try:
            await _visitor_frame(connection, services, frame, visitor_id, conversation_id, address)
        except ClbError as error:
            connection.send_error(error, conversation_id)


async def _visitor_frame(
    connection: Connection,
    services: Services,
    frame: Any,
    visitor_id: uuid.UUID,
    conversation_id: uuid.UUID,
    address: str,
) -> None:
    if isinstance(frame, Ping):
        connection.send({"type": "pong"})
    elif isinstance(frame, VisitorSend):
        settings = services.settings
        await _check_rate(
            services, f"chat:visitor:{visitor_id}", Rate(settings.chat_visitor_rate_per_minute, 60)
        )
        await _check_rate(
            services, f"chat:address:{address}", Rate(settings.chat_address_rate_per_minute, 60)
        )
        async with services.sessionmaker() as session:
            message = await service.visitor_send(
                session, services, visitor_id, conversation_id, frame.client_msg_id, frame.body
            )
            await commit(session)
        connection.send(ack_frame(message))
    elif isinstance(frame, VisitorTyping):
        if (await services.limiter.hit(f"chat:typing:{visitor_id}", TYPING)).allowed:
            await _publish_typing(services, conversation_id, Sender.visitor, frame.active)
    elif isinstance(frame, VisitorReceipt):
        async with services.sessionmaker() as session:
            conversation = await repository.lock_conversation(session, conversation_id)
            if conversation is None or conversation.visitor_id != visitor_id:
                raise NotAllowed()
            await service.record_receipt(
                session, services, conversation, Sender.visitor, frame.kind, frame.seq
            )
            await commit(session)
    elif isinstance(frame, Leave):
        async with services.sessionmaker() as session:
            await service.visitor_leave(session, services, visitor_id, conversation_id, utcnow())
            await commit(session)


async def _check_rate(services: Services, name: str, rate: Rate) -> None:
    decision = await services.limiter.hit(name, rate)
    decision.raise_if_denied(RATE_LIMITED)


# ---------------------------------------------------------------- counsellors


async def console_socket(websocket: WebSocket, services: Services) -> None:
    if not await accept_websocket_from_allowed_origin(websocket):
        return
    connection = Connection(websocket)
    await serve_socket(connection, _console(connection, services))


async def _console(connection: Connection, services: Services) -> None:
    token = connection.websocket.cookies.get(session_cookie_name(services.settings))
    async with services.sessionmaker() as session:
        staff_session = (
            await auth_service.resolve_session(session, token, services.settings) if token else None
        )
        await commit(session)
    if staff_session is None or not staff_session.account.has_role(Role.counsellor):
        connection.close(CLOSE_UNAUTHENTICATED, "not logged in")
        return
    staff = staff_session.account
    if await _hello(connection, ConsoleHello) is None:
        return
    console = Console(connection, services, staff, staff_session.id)
    await presence.heard_from_counsellor(services.redis, services.keys, staff.id)
    try:
        await run_until_first_done(
            console.welcome_and_watch_queue(), console.watch_logout(), console.read_frames()
        )
    finally:
        await console.stop_feeds()
        with contextlib.suppress(Exception):
            await presence.counsellor_left(services.redis, services.keys, staff.id)


class Console:
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

    async def welcome_and_watch_queue(self) -> None:
        async with self.services.bus.subscribe(queue_channel(self.services.keys)) as moves:
            async with self.services.sessionmaker() as session:
                held = await repository.held_conversations(session, self.staff.id)
                self.connection.send(
                    {
                        "type": "welcome",
                        "v": PROTOCOL_VERSION,
                        "conversations": [
                            _conversation_dict(c, self.staff.display_name) for c in held
                        ],
                    }
                )
            while True:
                await self.send_queue()
                await moves.get()
                await asyncio.sleep(0.05)  # coalesce a burst of moves

    async def send_queue(self) -> None:
        async with self.services.sessionmaker() as session:
            waiting = await repository.waiting_conversations(session)
        connected = await presence.connected_visitors(
            self.services.redis, self.services.keys, [c.id for c in waiting]
        )
        items = [
            {**_conversation_dict(c, None), "priority": c.priority, "connected": c.id in connected}
            for c in waiting
        ]
        self.connection.send({"type": "queue", "waiting": items})

    async def watch_logout(self) -> None:
        """Logging out elsewhere closes this console at once (R14)."""
        channel = auth_service.staff_channel(self.services.keys, self.staff.id)
        async with self.services.bus.subscribe(channel) as events:
            async for event in events:
                data = event.data or {}
                if data.get("type") == "session_ended" and data.get("session_id") == str(
                    self.session_id
                ):
                    self.connection.close(CLOSE_UNAUTHENTICATED, "logged out")
                    return

    def follow(self, conversation_id: uuid.UUID, last_seq: int) -> None:
        old = self.feeds.pop(conversation_id, None)
        if old is not None:
            old.cancel()
        feed = ConversationFeed(
            self.connection, self.services, conversation_id, last_seq, Sender.counsellor
        )
        self.feeds[conversation_id] = asyncio.create_task(feed.run())

    async def stop_feeds(self) -> None:
        for task in self.feeds.values():
            task.cancel()
        await asyncio.gather(*self.feeds.values(), return_exceptions=True)

    async def read_frames(self) -> None:
        last_presence = time.monotonic()
        while True:
            try:
                frame = await self.connection.receive(console_frames)
            except ClbError as error:
                self.connection.send_error(error)
                continue
            if isinstance(frame, Heartbeat) or time.monotonic() - last_presence > PRESENCE_EVERY:
                last_presence = time.monotonic()
                await presence.heard_from_counsellor(
                    self.services.redis, self.services.keys, self.staff.id
                )
            conversation_id = getattr(frame, "conversation_id", None)
            try:
                await self.handle(frame)
            except ClbError as error:
                self.connection.send_error(error, conversation_id)

    async def handle(self, frame: Any) -> None:
        services, staff = self.services, self.staff
        if isinstance(frame, Ping):
            self.connection.send({"type": "pong"})
        elif isinstance(frame, Claim):
            async with services.sessionmaker() as session:
                conversation = await service.claim_conversation(
                    session, services, staff, frame.conversation_id, utcnow()
                )
                claimed = _conversation_dict(conversation, staff.display_name)
                await commit(session)
            self.connection.send({"type": "claimed", "conversation": claimed})
            self.follow(frame.conversation_id, 0)
        elif isinstance(frame, Open):
            async with services.sessionmaker() as session:
                held = await repository.get_conversation(session, frame.conversation_id)
            if held is None or held.counsellor_id != staff.id:
                raise NotAllowed()
            self.follow(frame.conversation_id, frame.last_seq)
        elif isinstance(frame, ConsoleSend):
            await _check_rate(services, f"chat:staff:{staff.id}", STAFF_MESSAGES)
            async with services.sessionmaker() as session:
                message = await service.counsellor_send(
                    session,
                    services,
                    staff,
                    frame.conversation_id,
                    frame.client_msg_id,
                    frame.body,
                )
                await commit(session)
            self.connection.send(ack_frame(message))
        elif isinstance(frame, ConsoleTyping):
            if frame.conversation_id not in self.feeds:
                raise NotAllowed()
            if (await services.limiter.hit(f"chat:typing:{staff.id}", TYPING)).allowed:
                await _publish_typing(
                    services, frame.conversation_id, Sender.counsellor, frame.active
                )
        elif isinstance(frame, ConsoleReceipt):
            async with services.sessionmaker() as session:
                conversation = await service.locked_for_counsellor(
                    session, staff, frame.conversation_id
                )
                await service.record_receipt(
                    session, services, conversation, Sender.counsellor, frame.kind, frame.seq
                )
                await commit(session)
        elif isinstance(frame, End):
            async with services.sessionmaker() as session:
                conversation = await service.locked_for_counsellor(
                    session, staff, frame.conversation_id
                )
                await service.end_conversation(
                    session,
                    services,
                    conversation,
                    Sender.counsellor,
                    utcnow(),
                    by_name=staff.display_name,
                )
                await commit(session)
        elif isinstance(frame, Extend):
            async with services.sessionmaker() as session:
                await service.extend_conversation(
                    session, services, staff, frame.conversation_id, frame.minutes
                )
                await commit(session)
