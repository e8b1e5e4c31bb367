"""The visitor socket ``/ws/chat``: one conversation per socket, queue updates while waiting.

Every frame is validated and checked against the visitor's own conversation; a refused
frame gets an ``error`` frame and the socket stays open."""

from __future__ import annotations

import contextlib
import time
import uuid

from fastapi import WebSocket

from chat.conversations import repository, service
from chat.conversations.models import Sender, Status
from chat.conversations.schemas import (
    PROTOCOL_VERSION,
    Leave,
    Ping,
    VisitorFrame,
    VisitorHello,
    VisitorReceipt,
    VisitorSend,
    VisitorTyping,
    visitor_frames,
)
from chat.events import ack_frame
from chat.realtime import presence
from chat.realtime.connection import Connection, ConversationFeed, run_until_first_done
from chat.realtime.queue import QueueWatcher
from chat.realtime.sockets import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    PRESENCE_EVERY,
    TYPING,
    accept_and_serve,
    check_rate,
    counsellor_name,
    publish_typing,
    read_frames,
    receive_hello,
    visitor_summary,
)
from clb.auth import service as auth_service
from clb.db import commit, utcnow
from clb.ratelimit import Rate
from clb.services import Services
from clb.web.security import hash_ip


async def visitor_socket(websocket: WebSocket, services: Services) -> None:
    await accept_and_serve(websocket, services, _visitor)


async def _visitor(connection: Connection, services: Services) -> None:
    hello: VisitorHello | None = await receive_hello(connection, VisitorHello)
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
    # The socket lives for hours: keep no session or ORM objects alive in this frame.
    del session, visitor, conversation
    address = hash_ip_of(connection, services)

    watcher = QueueWatcher.of(services)

    async def welcome() -> None:
        async with services.sessionmaker() as session:
            current = await repository.get_conversation(session, conversation_id)
            if current is None:
                return
            name = await counsellor_name(session, current)
            connection.send(
                {
                    "type": "welcome",
                    "v": PROTOCOL_VERSION,
                    "conversation": visitor_summary(current, name),
                }
            )
        if current.status == Status.waiting:
            watcher.watch(conversation_id, connection)  # position and estimate follow

    async def status_changed(status: str) -> None:
        if status == Status.waiting:  # sent back to the queue: position and estimate again
            watcher.watch(conversation_id, connection)

    feed = ConversationFeed(
        connection,
        services,
        conversation_id,
        hello.last_seq,
        Sender.visitor,
        on_ready=welcome,
        on_status=status_changed,
    )
    await presence.heard_from_visitor(services.redis, services.keys, conversation_id)
    try:
        await run_until_first_done(
            feed.run(),
            VisitorFrames(connection, services, visitor_id, conversation_id, address).run(),
        )
    finally:
        watcher.unwatch(conversation_id, connection)
        with contextlib.suppress(Exception):
            await presence.visitor_left(services.redis, services.keys, conversation_id)


def hash_ip_of(connection: Connection, services: Services) -> str:
    client = connection.websocket.client
    return hash_ip(client.host if client else "unknown", services.settings.secret_key or "")


class VisitorFrames:
    """What the visitor sends, always about their own conversation."""

    def __init__(
        self,
        connection: Connection,
        services: Services,
        visitor_id: uuid.UUID,
        conversation_id: uuid.UUID,
        address: str,
    ) -> None:
        self.connection = connection
        self.services = services
        self.visitor_id = visitor_id
        self.conversation_id = conversation_id
        self.address = address
        self.last_presence = 0.0

    async def run(self) -> None:
        self.last_presence = time.monotonic()
        await read_frames(
            self.connection,
            visitor_frames,
            self.handle,
            received=self.received,
            conversation_of=lambda _frame: self.conversation_id,
        )

    async def received(self, frame: VisitorFrame) -> None:
        if time.monotonic() - self.last_presence > PRESENCE_EVERY:
            self.last_presence = time.monotonic()
            await presence.heard_from_visitor(
                self.services.redis, self.services.keys, self.conversation_id
            )

    async def handle(self, frame: VisitorFrame) -> None:
        match frame:
            case Ping():
                self.connection.send({"type": "pong"})
            case VisitorSend():
                await self.send_message(frame)
            case VisitorTyping():
                await self.typing(frame)
            case VisitorReceipt():
                await self.receipt(frame)
            case Leave():
                await self.leave()

    async def send_message(self, frame: VisitorSend) -> None:
        services, settings = self.services, self.services.settings
        await check_rate(
            services,
            f"chat:visitor:{self.visitor_id}",
            Rate(settings.chat_visitor_rate_per_minute, 60),
        )
        await check_rate(
            services,
            f"chat:address:{self.address}",
            Rate(settings.chat_address_rate_per_minute, 60),
        )
        async with services.sessionmaker() as session:
            message = await service.visitor_send(
                session,
                services,
                self.visitor_id,
                self.conversation_id,
                frame.client_msg_id,
                frame.body,
            )
            await commit(session)
        self.connection.send(ack_frame(message))

    async def typing(self, frame: VisitorTyping) -> None:
        if (await self.services.limiter.hit(f"chat:typing:{self.visitor_id}", TYPING)).allowed:
            await publish_typing(self.services, self.conversation_id, Sender.visitor, frame.active)

    async def receipt(self, frame: VisitorReceipt) -> None:
        async with self.services.sessionmaker() as session:
            await service.record_receipt(
                session,
                self.services,
                self.conversation_id,
                Sender.visitor,
                self.visitor_id,
                frame.kind,
                frame.seq,
            )
            await commit(session)

    async def leave(self) -> None:
        async with self.services.sessionmaker() as session:
            await service.visitor_leave(
                session, self.services, self.visitor_id, self.conversation_id, utcnow()
            )
            await commit(session)
