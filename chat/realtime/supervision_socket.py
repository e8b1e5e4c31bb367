"""The coordinators' socket ``/ws/supervision``: a live dashboard, silent read-along and
whispers. See docs/chat-protocol.md, "Supervision socket".

A fresh snapshot goes out when the queue moves, at once after a triage alert (the alert
itself first, unchanged), and every few seconds regardless, because a console heartbeat
that expires moves nobody's queue. Reading along subscribes to the conversation's channel
like a console does, but sends nothing on it and touches no presence: the visitor and the
counsellor are not told.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any, Literal

from fastapi import WebSocket
from pydantic import Field, TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import repository
from chat.conversations.models import Sender, Status
from chat.conversations.schemas import PROTOCOL_VERSION, Body, Frame, Ping
from chat.events import queue_channel, supervision_channel
from chat.realtime.connection import Connection, ConversationFeed, run_until_first_done
from chat.realtime.sockets import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHENTICATED,
    StaffSocket,
    accept_and_serve,
    check_staff_rate,
    conversation_summary,
    counsellor_name,
    receive_hello,
    staff_session_of,
)
from chat.supervision import service as supervision
from chat.supervision.read_along_rule import ReadAlongRefused, audit_refusal, check_read_along
from clb.auth.models import Role
from clb.bus import SlowSubscriber, Subscription
from clb.db import commit, utcnow
from clb.services import Services

REFRESH_SECONDS = 5.0
SETTLE_SECONDS = 0.05  # a burst of queue moves becomes one snapshot
MAX_READ_ALONG = 10


class SupervisionHello(Frame):
    type: Literal["hello"]
    v: int


class ReadAlong(Frame):
    type: Literal["read_along"]
    conversation_id: uuid.UUID
    last_seq: int = Field(default=0, ge=0)


class StopReading(Frame):
    type: Literal["stop_reading"]
    conversation_id: uuid.UUID


class Whisper(Frame):
    type: Literal["whisper"]
    conversation_id: uuid.UUID
    body: Body


SupervisionFrame = Ping | ReadAlong | StopReading | Whisper
supervision_frames: TypeAdapter[SupervisionFrame] = TypeAdapter(
    Annotated[SupervisionFrame, Field(discriminator="type")]
)


class ReadAlongFeed(ConversationFeed):
    """A conversation's messages and status changes for a silent reader (no typing, no
    receipts); done when the chat ends."""

    async def deliver(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind not in ("message", "status"):
            return
        await super().deliver(event)
        if kind == "status" and event.get("status") in (Status.ended, Status.abandoned):
            self.finished = True


async def supervision_socket(websocket: WebSocket, services: Services) -> None:
    await accept_and_serve(websocket, services, _supervise, "supervision")


async def _supervise(connection: Connection, services: Services) -> None:
    staff_session = await staff_session_of(connection, services)
    if staff_session is None:
        connection.close(CLOSE_UNAUTHENTICATED, "not logged in")
        return
    if not staff_session.account.has_role(Role.coordinator):
        connection.close(CLOSE_FORBIDDEN, "coordinators only")
        return
    if await receive_hello(connection, SupervisionHello) is None:
        return
    supervisor = Supervisor(connection, services, staff_session.account, staff_session.id)
    try:
        await run_until_first_done(
            supervisor.watch(), supervisor.watch_staff_channel(), supervisor.read_frames()
        )
    finally:
        await supervisor.stop_feeds()


async def _pump(
    subscription: Subscription, kind: str, inbox: asyncio.Queue[tuple[str, dict[str, Any]]]
) -> None:
    """Pass one channel's events on to the shared inbox; an overflow becomes one event."""
    while True:
        try:
            message = await subscription.get()
        except SlowSubscriber:
            subscription.drain()
            await inbox.put((kind, {}))
            continue
        await inbox.put((kind, message.data or {}))


class Supervisor(StaffSocket):
    frames = supervision_frames

    async def send_snapshot(self, kind: str = "snapshot") -> None:
        async with self.services.sessionmaker() as session:
            data = await supervision.snapshot(session, self.services, utcnow(), self.staff)
            await self.recheck_reading(session)
        frame: dict[str, Any] = {"type": kind, "snapshot": data}
        if kind == "welcome":
            frame["v"] = PROTOCOL_VERSION
        self.connection.send(frame)

    async def watch(self) -> None:
        keys = self.services.keys
        inbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        async with (
            self.services.bus.subscribe(supervision_channel(keys)) as alerts,
            self.services.bus.subscribe(queue_channel(keys)) as moves,
        ):
            pumps = [
                asyncio.create_task(_pump(alerts, "alert", inbox)),
                asyncio.create_task(_pump(moves, "queue", inbox)),
            ]
            try:
                await self.send_snapshot("welcome")
                await self._loop(inbox)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)

    async def _loop(self, inbox: asyncio.Queue[tuple[str, dict[str, Any]]]) -> None:
        while True:
            try:
                kind, data = await asyncio.wait_for(inbox.get(), REFRESH_SECONDS)
            except TimeoutError:
                await self.send_snapshot()
                continue
            if kind == "alert" and data.get("type"):
                # The alert first and unchanged: it is what a coordinator must see at once.
                self.connection.send(data)
            else:
                await asyncio.sleep(SETTLE_SECONDS)
            while not inbox.empty():  # what else came meanwhile is in the one snapshot
                kind, data = inbox.get_nowait()
                if kind == "alert" and data.get("type"):
                    self.connection.send(data)
            await self.send_snapshot()

    async def handle(self, frame: SupervisionFrame) -> None:
        match frame:
            case Ping():
                self.connection.send({"type": "pong"})
            case ReadAlong():
                await self.read_along(frame.conversation_id, frame.last_seq)
            case StopReading():
                self.unfollow(frame.conversation_id)
            case Whisper():
                await self.whisper(frame)

    async def whisper(self, frame: Whisper) -> None:
        await check_staff_rate(self.services, self.staff.id)
        async with self.services.sessionmaker() as session:
            try:
                event = await supervision.whisper(
                    session, self.services, self.staff, frame.conversation_id, frame.body, utcnow()
                )
            except ReadAlongRefused:
                await self.refused(session, frame.conversation_id)
                raise
            await commit(session)
        self.connection.send({**event, "type": "whispered"})

    async def recheck_reading(self, session: AsyncSession) -> None:
        """Stop reading along where the rule no longer allows it (the centre's admin turned
        it off, the chat went to another centre's counsellor): one ``error`` frame each."""
        for conversation_id, task in list(self.feeds.items()):
            if task.done():  # the chat ended: nothing more is read
                continue
            conversation = await repository.get_conversation(session, conversation_id)
            if conversation is None:
                continue
            try:
                await check_read_along(session, self.staff, conversation)
            except ReadAlongRefused as error:
                self.unfollow(conversation_id)
                self.connection.send_error(error, conversation_id)

    async def refused(self, session: AsyncSession, conversation_id: uuid.UUID) -> None:
        """A refused attempt is audited as a refusal, never as a read; the error frame
        (``read_along_refused`` with its ``reason``) follows from the raise."""
        await audit_refusal(session, self.staff, conversation_id, utcnow())
        await commit(session)

    async def read_along(self, conversation_id: uuid.UUID, last_seq: int) -> None:
        async with self.services.sessionmaker() as session:
            try:
                conversation = await supervision.readable_conversation(
                    session, self.staff, conversation_id
                )
            except ReadAlongRefused:
                await self.refused(session, conversation_id)
                raise
            name = await counsellor_name(session, conversation)
            await supervision.audit_read_along(
                session, self.staff, conversation_id, utcnow(), always=False
            )
            summary = conversation_summary(conversation, name)
            await commit(session)
        self.unfollow(conversation_id)
        if len(self.feeds) >= MAX_READ_ALONG:
            oldest = next(iter(self.feeds))
            self.feeds.pop(oldest).cancel()
        self.connection.send({"type": "reading", "conversation": summary})
        # Sender.system: a reader is neither side of the chat.
        feed = ReadAlongFeed(
            self.connection, self.services, conversation_id, last_seq, Sender.system
        )
        self.run_feed(conversation_id, feed)
