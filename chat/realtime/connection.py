"""One socket: a bounded send queue with its writer, and conversation feeds.

A feed subscribes to a conversation's channel first, then replays from PostgreSQL what the
client has not seen, then streams live events; it drops any ``seq`` already sent and
fetches a gap from the database. So delivery is complete and in order even though Redis
pub/sub is at-most-once. A socket that cannot keep up is closed (4009) and resumes; it
never slows the others down.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from fastapi import WebSocket
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from chat.conversations import repository
from chat.conversations.models import Sender, Status
from chat.conversations.schemas import MAX_BODY
from chat.errors import InvalidFrame
from chat.events import conversation_channel, message_event, message_frame
from clb.bus import BusClosed, BusMessage, SlowSubscriber, SubscribeTimeout, Subscription
from clb.errors import ClbError
from clb.health.outage import is_outage, note_outage
from clb.i18n import gettext
from clb.services import Services
from clb.web.input_hygiene import clean_json_text

log = logging.getLogger(__name__)

SEND_QUEUE_SIZE = 256
# How long a message that came before its predecessor waits for it before the feed reads
# the database instead.
EARLY_WAIT = 0.2
CLOSE_SLOW = 4009
CLOSE_TRY_AGAIN = 1013
# "Service restart": this process is shutting down; the page reconnects (to another one) at
# once and resumes from its last seq.
CLOSE_RESTART = 1012
# A socket's task still running this long after its cancel is cancelled again.
CANCEL_AGAIN_SECONDS = 1.0


class Connection:
    """Frames to send wait in a plain list, and the writer parks on a bare future while
    there is nothing to send: an idle socket (most of them) costs a few hundred bytes here,
    not the several KiB of an asyncio.Queue with its waiter deques and Event."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self._pending: list[dict[str, Any] | tuple[int, str]] = []
        self._wakeup: asyncio.Future[None] | None = None
        self.closing = False
        # A frame is being handled now (read_frames); a restart waits for its answer.
        self.busy = False
        self.restarting = False

    def send(self, frame: dict[str, Any]) -> None:
        if self.closing:
            return
        if len(self._pending) >= SEND_QUEUE_SIZE:
            self.close(CLOSE_SLOW, "too slow")
            return
        self._pending.append(frame)
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def send_error(self, error: ClbError, conversation_id: uuid.UUID | None = None) -> None:
        frame: dict[str, Any] = {
            "type": "error",
            "code": error.code,
            "message": gettext(error.detail_message),
            **error.details,
        }
        if conversation_id is not None:
            frame["conversation_id"] = str(conversation_id)
        self.send(frame)

    def close(self, code: int, reason: str = "") -> None:
        """Close after the frames already queued (the close jumps a full queue: what is
        pending is dropped, the client resumes from its last seq anyway)."""
        if self.closing:
            return
        self.closing = True
        if len(self._pending) >= SEND_QUEUE_SIZE:
            self._pending.clear()
        self._pending.append((code, reason))
        self._wake()

    def restart(self) -> None:
        """Ask the page to reconnect, as this process is shutting down: at once when no
        frame is in hand, else as soon as it is answered (read_frames), so a message being
        stored is acked first. What the page sends meanwhile is not read; it sends that again
        after the reconnect."""
        self.restarting = True
        if not self.busy:
            self.close(CLOSE_RESTART, "service restart")

    async def write_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self._pending:
                self._wakeup = loop.create_future()
                try:
                    await self._wakeup
                finally:
                    self._wakeup = None
            item = self._pending.pop(0)
            if isinstance(item, tuple):
                if self.websocket.application_state == WebSocketState.CONNECTED:
                    await self.websocket.close(code=item[0], reason=item[1])
                return
            await self.websocket.send_text(orjson.dumps(item).decode())

    async def receive(self, adapter: TypeAdapter[Any] | type[BaseModel]) -> Any:
        """The next frame, validated. Bad frames raise InvalidFrame (answered, not fatal)."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:  # a binary frame: the protocol is JSON text only
            raise InvalidFrame()
        try:
            data = clean_json_text(text)  # the same input hygiene as HTTP (clb.web)
        except orjson.JSONDecodeError:
            raise InvalidFrame() from None
        if not isinstance(data, dict):
            raise InvalidFrame()
        body = data.get("body")
        if data.get("type") == "send" and isinstance(body, str) and len(body) > MAX_BODY:
            raise TooLong()
        try:
            if isinstance(adapter, TypeAdapter):
                return adapter.validate_python(data)
            return adapter.model_validate(data)
        except ValidationError:
            raise InvalidFrame() from None


class TooLong(ClbError):
    code = "too_long"
    message = "Je bericht is te lang. Verdeel het over een paar berichten."


async def serve_socket(connection: Connection, handler: Awaitable[None]) -> None:
    """Run a socket until the client leaves or the handler is done; then close it properly
    after the frames already queued. An unexpected error closes it with 1011 (the page
    reconnects and resumes) instead of dropping it without a word."""
    writer = asyncio.create_task(connection.write_forever())
    work = asyncio.ensure_future(handler)
    code = 1000
    try:
        # A failed send (the writer ends with an error) means the client went away.
        await asyncio.wait((writer, work), return_when=asyncio.FIRST_COMPLETED)
        if work.done():
            error = work.exception()
            if error is not None and is_outage(error):
                # 1013 "try again later": the page reconnects and resumes by itself.
                note_outage(log, "chat socket", error)
                code = CLOSE_TRY_AGAIN
            elif error is not None and not isinstance(error, WebSocketDisconnect | BusClosed):
                log.error("chat socket failed", exc_info=error)
                code = 1011
    finally:
        if not work.done():
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
        if not writer.done():
            connection.close(code, "")
            try:
                await asyncio.wait_for(writer, 2)
            except (TimeoutError, Exception):
                writer.cancel()
        elif not writer.cancelled():
            writer.exception()  # retrieved: a client that left is not an error


async def run_until_first_done(*coroutines: Awaitable[None]) -> None:
    """Run the socket's tasks together; when one ends (disconnect, close), stop them all."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, WebSocketDisconnect | BusClosed):
                raise error
    finally:
        await cancel_and_wait(tasks)


async def cancel_and_wait(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Cancel the tasks and wait until they have ended. One that swallowed its cancellation
    (a Redis call that turned it into an error, which the task's own retry loop caught) is
    cancelled again: a socket's tasks must not outlive it, nor hold up a shutdown."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_AGAIN_SECONDS)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: the first one's error was raised above


class ConversationFeed:
    """Delivers one conversation's events to one socket, complete and in order."""

    def __init__(
        self,
        connection: Connection,
        services: Services,
        conversation_id: uuid.UUID,
        last_seq: int,
        me: Sender,
        on_ready: Callable[[], Awaitable[None]] | None = None,
        on_status: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.connection = connection
        self.services = services
        self.conversation_id = conversation_id
        self.last_seq = last_seq
        self.me = me
        self.on_ready = on_ready
        self.on_status = on_status
        self.finished = False
        # How far this socket's receipts were announced: only forward, never past last_seq.
        self.delivered_mark = 0
        self.read_mark = 0
        # Messages that came before their predecessor, briefly (see _hold_early).
        self.early: dict[int, dict[str, Any]] | None = None
        self.early_until = 0.0

    async def run(self) -> None:
        """Follow the conversation until it is over for this socket. While Redis is away
        the subscription is tried again, and the replay after it covers what was missed."""
        channel = conversation_channel(self.services.keys, self.conversation_id)
        while not self.connection.closing:
            try:
                await self._follow(channel)
                return
            except SubscribeTimeout as error:
                note_outage(log, "conversation feed", error)

    async def _follow(self, channel: str) -> None:
        async with self.services.bus.subscribe(channel) as subscription:
            if self.on_ready is not None:
                await self.on_ready()
            await self.replay()
            while not self.finished:
                try:
                    message = await self._next(subscription)
                except SlowSubscriber:
                    self.connection.close(CLOSE_SLOW, "too slow")
                    return
                if message is None:  # a message that came early still has no predecessor
                    await self.replay()
                elif message.gap:
                    await self.replay()
                elif message.data is not None:
                    await self.deliver(message.data)

    async def _next(self, subscription: Subscription) -> BusMessage | None:
        """The next event; None when a message that came early has waited EARLY_WAIT."""
        if self.early is None:
            return await subscription.get()
        remaining = self.early_until - asyncio.get_running_loop().time()
        try:
            return await asyncio.wait_for(subscription.get(), max(remaining, 0.0))
        except TimeoutError:
            return None

    def receipt_mark(self, kind: str, seq: int) -> int | None:
        """The seq a receipt from this socket may announce: no further than what this
        feed has sent it, and only forward (``read`` counts as ``delivered``); None when it
        moves nothing."""
        seq = min(seq, self.last_seq)
        if kind == "read":
            if seq <= self.read_mark:
                return None
            self.read_mark = seq
            self.delivered_mark = max(self.delivered_mark, seq)
            return seq
        if seq <= self.delivered_mark:
            return None
        self.delivered_mark = seq
        return seq

    def _hold_early(self, seq: int, event: dict[str, Any]) -> None:
        """A message ahead of one not yet here. The two sides of a chat publish from
        different processes, so their messages can cross on the way: wait EARLY_WAIT for
        the missing one before reading the database (``replay``)."""
        if self.early is None:
            self.early = {}
            self.early_until = asyncio.get_running_loop().time() + EARLY_WAIT
        self.early[seq] = event

    async def replay(self) -> None:
        self.early = None  # the database has them all (they were published after commit)
        async with self.services.sessionmaker() as session:
            conversation = await repository.get_conversation(session, self.conversation_id)
            rows = await repository.messages_with_authors(
                session, self.conversation_id, self.last_seq
            )
        nickname = conversation.nickname if conversation else ""
        for message, author in rows:
            if message.seq <= self.last_seq:
                continue
            # The live path names the visitor by nickname and staff by display name; a system
            # notice without an author has none.
            fallback = nickname if message.sender == Sender.visitor else ""
            event = message_event(message, author or fallback)
            self.connection.send(message_frame(event))
            self.last_seq = message.seq

    async def deliver(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "message":
            seq = int(event["seq"])
            if seq <= self.last_seq:
                return  # already sent (replay, or our own resend)
            if seq > self.last_seq + 1:
                self._hold_early(seq, event)
                return
            self.connection.send(message_frame(event))
            self.last_seq = seq
            while self.early and (following := self.early.pop(self.last_seq + 1, None)):
                self.connection.send(message_frame(following))
                self.last_seq += 1
            if not self.early:
                self.early = None
        elif kind == "typing" and event.get("sender") != self.me:
            self.connection.send(event)
        elif kind == "receipt" and event.get("by") != self.me:
            self.connection.send(event)
        elif kind == "presence" and self.me != Sender.visitor:
            self.connection.send(event)
        elif kind == "status":
            await self.replay()  # the notice that goes with a status change comes first
            self.connection.send(event)
            # Back to "waiting" is a chat sent back to the queue: no longer this counsellor's.
            if (
                event.get("status") in (Status.ended, Status.abandoned, Status.waiting)
                and self.me == Sender.counsellor
            ):
                self.finished = True
            if self.on_status is not None:
                await self.on_status(str(event.get("status")))
        elif kind == "queue":
            self.connection.send(event)
