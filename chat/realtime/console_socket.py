"""The counsellor socket ``/ws/console``: the waiting list, claims, and several chats at once.

Every conversation-scoped frame is authorised against the database (does this counsellor
hold it?) before anything happens."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

from fastapi import WebSocket

from chat.console import duty, transfer
from chat.console import repository as staff_repository
from chat.console.models import Duty
from chat.conversations import repository, service
from chat.conversations.models import Sender
from chat.conversations.schemas import (
    PROTOCOL_VERSION,
    Claim,
    Colleagues,
    ConsoleFrame,
    ConsoleHello,
    ConsoleReceipt,
    ConsoleSend,
    ConsoleTyping,
    End,
    Extend,
    Heartbeat,
    Next,
    Open,
    Ping,
    SetDuty,
    Transfer,
    console_frames,
)
from chat.errors import NotAllowed
from chat.events import (
    CONSOLE_FORWARDED,
    presence_event,
    queue_changed,
    queue_channel,
)
from chat.realtime import presence
from chat.realtime.connection import Connection, ConversationFeed, run_until_first_done
from chat.realtime.sockets import (
    CLOSE_UNAUTHENTICATED,
    PRESENCE_EVERY,
    StaffSocket,
    TypingRelay,
    accept_and_serve,
    acknowledge,
    check_staff_rate,
    conversation_summary,
    publish_typing,
    receive_hello,
    staff_session_of,
)
from clb.auth.models import Role, StaffAccount
from clb.bus import SlowSubscriber
from clb.db import commit, utcnow
from clb.health.outage import is_outage, note_outage
from clb.services import Services

log = logging.getLogger(__name__)


async def console_socket(websocket: WebSocket, services: Services) -> None:
    await accept_and_serve(websocket, services, _console, "console")


async def _console(connection: Connection, services: Services) -> None:
    staff_session = await staff_session_of(connection, services)
    if staff_session is None or not staff_session.account.has_role(Role.counsellor):
        connection.close(CLOSE_UNAUTHENTICATED, "not logged in")
        return
    staff = staff_session.account
    if await receive_hello(connection, ConsoleHello) is None:
        return
    console = Console(connection, services, staff, staff_session.id)
    await presence.heard_from_counsellor(services.redis, services.keys, staff.id)
    await _capacity_changed(services)
    try:
        await run_until_first_done(
            console.welcome_and_watch_queue(),
            console.watch_staff_channel(),
            console.read_frames(),
            console.watch_visitors(),
        )
    finally:
        await console.stop_feeds()
        with contextlib.suppress(Exception):
            await presence.counsellor_left(services.redis, services.keys, staff.id)
            await _capacity_changed(services)


async def _capacity_changed(services: Services) -> None:
    """A console came or went: waiting visitors' estimates follow at once."""
    await services.bus.publish(queue_channel(services.keys), queue_changed())


# How often a console checks that the visitors of its chats are still there.
VISITOR_CHECK_SECONDS = 3.0


class Console(StaffSocket):
    frames = console_frames
    last_presence = 0.0

    def __init__(
        self, connection: Connection, services: Services, staff: StaffAccount, session_id: uuid.UUID
    ) -> None:
        super().__init__(connection, services, staff, session_id)
        self.typing_relay = TypingRelay()

    async def welcome_and_watch_queue(self) -> None:
        async with self.services.bus.subscribe(queue_channel(self.services.keys)) as moves:
            async with self.services.sessionmaker() as session:
                held = await repository.held_conversations(session, self.staff.id)
                handovers = await transfer.handovers_for(session, self.staff, [c.id for c in held])
                own = await staff_repository.chat_staff(session, self.staff.id)
                self.connection.send(
                    {
                        "type": "welcome",
                        "v": PROTOCOL_VERSION,
                        "conversations": [
                            {
                                **conversation_summary(c, self.staff.display_name),
                                "handover": handovers.get(c.id),
                            }
                            for c in held
                        ],
                    }
                )
                capacity = self.services.settings.chat_counsellor_capacity
                self.connection.send(duty.duty_frame(own, capacity))
            while True:
                try:
                    await self.send_queue()
                except Exception as error:
                    if not is_outage(error):
                        raise
                    note_outage(log, "console queue", error)  # the next move tries again
                # Only *that* the queue moved matters: a backlog (even an overflow) of moves
                # becomes one refresh, never a closed console.
                with contextlib.suppress(SlowSubscriber):
                    await moves.get()
                await asyncio.sleep(0.05)
                moves.drain()

    async def watch_visitors(self) -> None:
        """Whether the visitor of each chat held here is there, sent when it changes. The
        visitor's own sockets announce it at once through the feed; this also catches what
        nobody could announce (a killed process's visitors) and outlives a Redis outage."""
        known: dict[uuid.UUID, float | None] = {}
        while True:
            try:
                states = await presence.visitor_states(
                    self.services.redis, self.services.keys, list(self.feeds)
                )
            except Exception:  # noqa: BLE001 - try again at the next check
                states = {}
            for conversation_id, since in states.items():
                if conversation_id not in known or known[conversation_id] != since:
                    known[conversation_id] = since
                    self.connection.send(presence_event(conversation_id, since=since))
            await asyncio.sleep(VISITOR_CHECK_SECONDS)

    async def send_queue(self) -> None:
        async with self.services.sessionmaker() as session:
            waiting = await repository.waiting_conversations(session)
        connected = await presence.present_visitors(
            self.services.redis, self.services.keys, [c.id for c in waiting]
        )
        items = [
            {
                **conversation_summary(c, None),
                "priority": c.priority,
                "connected": c.id in connected,
            }
            for c in waiting
        ]
        self.connection.send({"type": "queue", "waiting": items})

    async def on_staff_event(self, data: dict[str, Any]) -> None:
        """A chat by appointment assigned to them opens here as if claimed; a transfer
        opens or closes one; the rest the page shows as it comes."""
        kind = data.get("type")
        if kind == "assigned":
            await self.open_assigned(uuid.UUID(str(data.get("conversation_id"))))
        elif kind == "transferred_to_you":
            # Opens at once with the full history (replayed from seq 1) and the note.
            handover = {"from": data.get("from") or "", "note": data.get("note") or ""}
            cid = uuid.UUID(str(data.get("conversation_id")))
            await self.open_assigned(cid, handover)
            self.connection.send(data)
        elif kind == "transferred_away":
            self.unfollow(uuid.UUID(str(data.get("conversation_id"))))
            self.connection.send(data)
        elif kind in CONSOLE_FORWARDED:
            self.connection.send(data)

    async def open_assigned(
        self, conversation_id: uuid.UUID, handover: dict[str, str] | None = None
    ) -> None:
        async with self.services.sessionmaker() as session:
            held = await repository.get_conversation(session, conversation_id)
        if held is None or held.counsellor_id != self.staff.id:
            return
        summary = conversation_summary(held, self.staff.display_name)
        self.connection.send({"type": "claimed", "conversation": {**summary, "handover": handover}})
        self.follow(conversation_id, 0)

    def follow(self, conversation_id: uuid.UUID, last_seq: int) -> None:
        feed = ConversationFeed(
            self.connection, self.services, conversation_id, last_seq, Sender.counsellor
        )
        self.run_feed(conversation_id, feed)

    async def read_frames(self) -> None:
        self.last_presence = time.monotonic()
        await super().read_frames()

    async def received(self, frame: ConsoleFrame) -> None:
        if isinstance(frame, Heartbeat) or time.monotonic() - self.last_presence > PRESENCE_EVERY:
            self.last_presence = time.monotonic()
            await presence.heard_from_counsellor(
                self.services.redis, self.services.keys, self.staff.id
            )

    async def handle(self, frame: ConsoleFrame) -> None:
        match frame:
            case Ping():
                self.connection.send({"type": "pong"})
            case Claim() | Next():
                await self.claim(frame)
            case SetDuty():
                await self.set_duty(frame)
            case Colleagues():
                await self.send_colleagues()
            case Transfer():
                await self.transfer(frame)
            case Open():
                await self.open(frame)
            case ConsoleSend():
                await self.send_message(frame)
            case ConsoleTyping():
                await self.typing(frame)
            case ConsoleReceipt():
                await self.receipt(frame)
            case End():
                await self.end(frame)
            case Extend():
                await self.extend(frame)
            case Heartbeat():
                pass  # presence only (``received``)

    async def claim(self, frame: Claim | Next) -> None:
        services, staff = self.services, self.staff
        async with services.sessionmaker() as session:
            if isinstance(frame, Claim):
                conversation = await service.claim_conversation(
                    session, services, staff, frame.conversation_id, utcnow()
                )
            else:
                conversation = await service.claim_next_conversation(
                    session, services, staff, utcnow()
                )
            claimed = conversation_summary(conversation, staff.display_name)
            await commit(session)
        self.connection.send({"type": "claimed", "conversation": claimed})
        self.follow(conversation.id, 0)

    async def set_duty(self, frame: SetDuty) -> None:
        async with self.services.sessionmaker() as session:
            await duty.set_duty(session, self.services, self.staff, Duty(frame.duty), utcnow())
            await commit(session)
        # The new state comes back on the staff channel, to every console of theirs.

    async def send_colleagues(self) -> None:
        async with self.services.sessionmaker() as session:
            available = await transfer.colleagues(session, self.services, self.staff)
        self.connection.send({"type": "colleagues", "colleagues": available})

    async def open(self, frame: Open) -> None:
        async with self.services.sessionmaker() as session:
            held = await repository.get_conversation(session, frame.conversation_id)
        if held is None or held.counsellor_id != self.staff.id:
            raise NotAllowed()
        self.follow(frame.conversation_id, frame.last_seq)

    async def send_message(self, frame: ConsoleSend) -> None:
        started = time.perf_counter()
        services, staff = self.services, self.staff
        await check_staff_rate(services, staff.id)
        outgoing = service.Outgoing(
            frame.conversation_id,
            Sender.counsellor,
            staff.id,
            staff.id,
            frame.client_msg_id,
            frame.body,
        )
        message = await service.send_from_socket(services, outgoing, staff)
        acknowledge(self.connection, services, message, started)

    async def typing(self, frame: ConsoleTyping) -> None:
        if frame.conversation_id not in self.feeds:
            raise NotAllowed()
        if self.typing_relay.passes(frame.conversation_id, frame.active):
            await publish_typing(
                self.services, frame.conversation_id, Sender.counsellor, frame.active
            )

    async def receipt(self, frame: ConsoleReceipt) -> None:
        """Only for a chat this console follows, i.e. one this counsellor holds."""
        feed = self.live_feed(frame.conversation_id)
        if feed is None:
            raise NotAllowed()
        seq = feed.receipt_mark(frame.kind, frame.seq)
        if seq is not None:
            await service.announce_receipt(
                self.services,
                frame.conversation_id,
                Sender.counsellor,
                self.staff.id,
                frame.kind,
                seq,
            )

    async def end(self, frame: End) -> None:
        services, staff = self.services, self.staff
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

    async def extend(self, frame: Extend) -> None:
        async with self.services.sessionmaker() as session:
            await service.extend_conversation(
                session, self.services, self.staff, frame.conversation_id, frame.minutes
            )
            await commit(session)

    async def transfer(self, frame: Transfer) -> None:
        """Only the holder may hand a chat on (checked under the conversation's lock)."""
        services, staff = self.services, self.staff
        async with services.sessionmaker() as session:
            if frame.kind == "warm" and frame.to is not None:
                await transfer.warm_transfer(
                    session, services, staff, frame.conversation_id, frame.to, frame.note, utcnow()
                )
            else:
                await transfer.cold_transfer(
                    session, services, staff, frame.conversation_id, utcnow()
                )
            await commit(session)
        self.unfollow(frame.conversation_id)
