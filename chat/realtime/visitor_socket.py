"""The visitor socket ``/ws/chat``: one conversation per socket, queue updates while waiting.

Every frame is validated and checked against the visitor's own conversation; a refused
frame gets an ``error`` frame and the socket stays open."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

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
from chat.errors import BusyNetwork, TooManyWindows
from chat.realtime.connection import Connection, ConversationFeed, run_until_first_done
from chat.realtime.queue import QueueWatcher
from chat.realtime.sockets import (
    CLOSE_FORBIDDEN,
    CLOSE_REFUSED,
    CLOSE_UNAUTHENTICATED,
    RATE_LIMITED,
    TypingRelay,
    accept_and_serve,
    acknowledge,
    counsellor_name,
    publish_typing,
    read_frames,
    receive_hello,
    visitor_summary,
)
from chat.realtime.visitor_sockets import Held, VisitorSockets
from clb.auth import service as auth_service
from clb.db import commit, utcnow
from clb.ratelimit import Rate
from clb.services import Services
from clb.web.security import hash_ip


async def visitor_socket(websocket: WebSocket, services: Services) -> None:
    await accept_and_serve(websocket, services, _visitor, "visitor")


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
    held = Held(conversation.id, visitor.id, hash_ip_of(connection, services))
    # The socket lives for hours: keep no session or ORM objects alive in this frame.
    del session, visitor, conversation
    sockets = VisitorSockets.of(services)
    try:
        socket = await sockets.admit(held)
    except (TooManyWindows, BusyNetwork) as refusal:
        connection.send_error(refusal)
        connection.close(CLOSE_REFUSED, refusal.code)
        return
    place = Place()
    try:
        await _serve(connection, services, hello.last_seq, held, place)
    finally:
        with contextlib.suppress(Exception):
            await sockets.release(socket, waiting=place.waiting)


@dataclass
class Place:
    """Whether this socket's visitor is waiting in the queue (or talking)."""

    waiting: bool = False


async def _serve(
    connection: Connection, services: Services, last_seq: int, held: Held, place: Place
) -> None:
    conversation_id = held.conversation_id
    watcher = QueueWatcher.of(services)

    async def welcome() -> None:
        async with services.sessionmaker() as session:
            current = await repository.get_conversation(session, conversation_id)
            if current is None:
                return
            if current.joined_at is None:  # from now on it is in the queue
                current.joined_at = utcnow()
            name = await counsellor_name(session, current)
            summary = visitor_summary(current, name)
            place.waiting = current.status == Status.waiting
            await commit(session)
        connection.send({"type": "welcome", "v": PROTOCOL_VERSION, "conversation": summary})
        await VisitorSockets.of(services).announce_present(conversation_id, waiting=place.waiting)
        if place.waiting:
            watcher.watch(conversation_id, connection)  # position and estimate follow

    async def status_changed(status: str) -> None:
        place.waiting = status == Status.waiting
        if place.waiting:  # sent back to the queue: position and estimate again
            watcher.watch(conversation_id, connection)

    feed = ConversationFeed(
        connection,
        services,
        conversation_id,
        last_seq,
        Sender.visitor,
        on_ready=welcome,
        on_status=status_changed,
    )
    frames = VisitorFrames(connection, services, held, feed)
    try:
        await run_until_first_done(feed.run(), frames.run())
    finally:
        watcher.unwatch(conversation_id, connection)


def hash_ip_of(connection: Connection, services: Services) -> str:
    client = connection.websocket.client
    return hash_ip(client.host if client else "unknown", services.settings.secret_key or "")


class VisitorFrames:
    """What the visitor sends, always about their own conversation."""

    def __init__(
        self, connection: Connection, services: Services, held: Held, feed: ConversationFeed
    ) -> None:
        self.connection = connection
        self.services = services
        self.visitor_id = held.visitor_id
        self.conversation_id = held.conversation_id
        self.address = held.address
        self.feed = feed  # what this socket was sent: how far its receipts may go
        self.typing_relay: TypingRelay | None = None  # made at the first typing frame

    async def run(self) -> None:
        await read_frames(
            self.connection,
            visitor_frames,
            self.handle,
            conversation_of=lambda _frame: self.conversation_id,
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
        started = time.perf_counter()
        services, settings = self.services, self.services.settings
        decision = await services.limiter.hit_all(
            [
                (
                    f"chat:visitor:{self.visitor_id}",
                    Rate(settings.chat_visitor_rate_per_minute, 60),
                ),
                (f"chat:address:{self.address}", Rate(settings.chat_address_rate_per_minute, 60)),
            ]
        )
        decision.raise_if_denied(RATE_LIMITED)
        outgoing = service.Outgoing(
            self.conversation_id,
            Sender.visitor,
            self.visitor_id,
            None,
            frame.client_msg_id,
            frame.body,
        )
        message = await service.send_from_socket(services, outgoing)
        acknowledge(self.connection, services, message, started)

    async def typing(self, frame: VisitorTyping) -> None:
        if self.typing_relay is None:
            self.typing_relay = TypingRelay()
        if self.typing_relay.passes(self.conversation_id, frame.active):
            await publish_typing(self.services, self.conversation_id, Sender.visitor, frame.active)

    async def receipt(self, frame: VisitorReceipt) -> None:
        seq = self.feed.receipt_mark(frame.kind, frame.seq)
        if seq is not None:
            await service.announce_receipt(
                self.services,
                self.conversation_id,
                Sender.visitor,
                self.visitor_id,
                frame.kind,
                seq,
            )

    async def leave(self) -> None:
        async with self.services.sessionmaker() as session:
            await service.visitor_leave(
                session, self.services, self.visitor_id, self.conversation_id, utcnow()
            )
            await commit(session)
