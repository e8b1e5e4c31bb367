"""Group commit of chat messages: every message a process is asked to store while the
previous write is under way goes to PostgreSQL together, in one statement.

At a few messages a second a batch is one message and costs one round trip (no BEGIN and
COMMIT around it); under load one round trip and one commit carry dozens of messages from
different conversations, so neither the server's CPU nor PostgreSQL's commits grow with
every message. The guarantees stay those of the single statement it replaces: a message
gets the next ``seq`` of its conversation under the row's lock, is stored before anyone is
told (the caller acks and publishes after the batch has committed), and a resend of a
stored ``client_msg_id`` is not stored twice.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from chat.conversations.models import OPEN_STATUSES, Sender, Status
from chat.conversations.repository import Appended
from clb.health.outage import is_outage
from clb.services import Services

# At most this many messages in one statement; a larger backlog takes several.
MAX_BATCH = 256
# Batches under way at once per process (each on its own pooled connection). Measured on
# two cores: 3 made batches smaller and commits more frequent, and p99 at 500 msg/s went
# from 45 to 156 ms; one at a time gathers the most per commit.
IN_FLIGHT = 1

# One batch: each row checks its own sender's right to write (the visitor owns the chat
# while it is open; the counsellor holds it while it is active), skips a client_msg_id that
# is already stored (the caller then finds the original), takes the conversation's next seq
# and stores the message. A batch holds at most one message per conversation: an UPDATE
# changes a row once per statement.
_APPEND_BATCH = """
WITH input AS (
    SELECT * FROM unnest(
        CAST($1 AS uuid[]), CAST($2 AS uuid[]),
        CAST($3 AS varchar[]), CAST($4 AS uuid[]),
        CAST($5 AS uuid[]), CAST($6 AS text[])
    ) AS i(conversation_id, owner_id, sender, author_id, client_msg_id, body)
    WHERE NOT EXISTS (
        SELECT 1 FROM chat_messages m
        WHERE m.conversation_id = i.conversation_id AND m.sender = i.sender
          AND m.client_msg_id = i.client_msg_id
    )
), bumped AS (
    UPDATE conversations c SET last_seq = c.last_seq + 1
    FROM input i
    WHERE c.id = i.conversation_id AND (
        (i.sender = 'visitor' AND c.visitor_id = i.owner_id
            AND c.status = ANY(CAST($7 AS varchar[])))
        OR (i.sender = 'counsellor' AND c.counsellor_id = i.owner_id
            AND c.status = CAST($8 AS varchar))
    )
    RETURNING c.id, c.last_seq, c.nickname, i.sender, i.author_id, i.client_msg_id, i.body
), stored AS (
    INSERT INTO chat_messages (conversation_id, seq, sender, author_id, client_msg_id, body,
                               created_at)
    SELECT id, last_seq, sender, author_id, client_msg_id, body, now() FROM bumped
    RETURNING id, conversation_id, seq, created_at
)
SELECT stored.id, stored.conversation_id, stored.seq, stored.created_at, bumped.nickname
FROM stored JOIN bumped ON bumped.id = stored.conversation_id
"""

# Several conversations' rows are locked in one order (by id) before the batch touches
# them: two processes' batches over the same chats then queue instead of deadlocking.
_LOCK_IN_ORDER = (
    "SELECT id FROM conversations WHERE id = ANY(CAST($1 AS uuid[])) ORDER BY id FOR UPDATE"
)


@dataclass(frozen=True)
class Outgoing:
    """One message to store, with who sends it (checked in the statement)."""

    conversation_id: uuid.UUID
    sender: Sender  # visitor or counsellor
    owner_id: uuid.UUID  # the visitor, or the counsellor who holds the chat
    author_id: uuid.UUID | None
    client_msg_id: uuid.UUID
    body: str


Waiting = tuple[Outgoing, "asyncio.Future[Appended | None]"]


class MessageBatcher:
    """This process's writer of chat messages: one batch in PostgreSQL at a time, the next
    one gathering meanwhile."""

    KEY = "chat.message_batcher"

    def __init__(self, services: Services) -> None:
        self.services = services
        self._pending: list[Waiting] = []
        self._wakeup: asyncio.Future[None] | None = None
        self._busy: set[uuid.UUID] = set()  # conversations in a batch under way
        self._running: set[asyncio.Task[None]] = set()

    @classmethod
    def of(cls, services: Services) -> MessageBatcher:
        batcher = services.local.get(cls.KEY)
        if batcher is None:
            batcher = services.local[cls.KEY] = cls(services)
            _ = services.run_in_background(batcher.write_forever())
        assert isinstance(batcher, MessageBatcher)  # noqa: S101 - one type under this key
        return batcher

    async def append(self, message: Outgoing) -> Appended | None:
        """The stored message once its batch has committed; None when it was not stored
        (not the sender's chat, not open, or a resend of a stored ``client_msg_id``).
        Raises what the database raised (an outage) when the batch failed."""
        done: asyncio.Future[Appended | None] = asyncio.get_running_loop().create_future()
        self._pending.append((message, done))
        self._wake()
        return await done

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def write_forever(self) -> None:
        """Start a batch whenever there is work and fewer than IN_FLIGHT are under way: a
        commit that waits for the disk then holds up only its own batch."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                batch = self._take_batch() if len(self._running) < IN_FLIGHT else []
                if not batch:
                    self._wakeup = loop.create_future()
                    try:
                        await self._wakeup
                    finally:
                        self._wakeup = None
                    continue
                self._busy.update(message.conversation_id for message, _ in batch)
                task = asyncio.create_task(self._run(batch))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
        finally:
            for task in self._running:
                task.cancel()

    async def _run(self, batch: list[Waiting]) -> None:
        try:
            results = await self._write(batch)
        except Exception as error:  # noqa: BLE001 - every sender hears of it
            for _, done in batch:
                if not done.done():
                    done.set_exception(error)
        else:
            for (_, done), result in zip(batch, results, strict=True):
                if not done.done():  # the sender may have gone (socket closed)
                    done.set_result(result)
        finally:
            self._busy.difference_update(message.conversation_id for message, _ in batch)
            # Before waking the writer (the done callback would come after it).
            task = asyncio.current_task()
            if task is not None:
                self._running.discard(task)
            self._wake()

    def _take_batch(self) -> list[Waiting]:
        """The oldest waiting messages, one per conversation and none of a conversation
        that a batch under way holds (a later message of a chat waits for a later batch,
        which keeps each chat's order of arrival)."""
        batch: list[Waiting] = []
        rest: list[Waiting] = []
        seen: set[uuid.UUID] = set(self._busy)
        for waiting in self._pending:
            conversation_id = waiting[0].conversation_id
            if conversation_id in seen or len(batch) >= MAX_BATCH:
                seen.add(conversation_id)  # nothing of this chat may overtake it
                rest.append(waiting)
            else:
                seen.add(conversation_id)
                batch.append(waiting)
        self._pending = rest
        return batch

    async def _write(self, batch: list[Waiting]) -> list[Appended | None]:
        messages = [message for message, _ in batch]
        try:
            return await self._store(messages)
        except asyncpg.UniqueViolationError:
            # Two resends of one message raced past each other's check: store the batch
            # one by one, so only the duplicate is refused.
            results: list[Appended | None] = []
            for message in messages:
                try:
                    results.extend(await self._store([message]))
                except asyncpg.UniqueViolationError:
                    results.append(None)
            return results

    async def _store(self, messages: list[Outgoing]) -> list[Appended | None]:
        """One batch on a pooled connection, straight through asyncpg: SQLAlchemy's work
        per statement would cost more than the statement for the small batches of a quiet
        evening."""
        arguments = _arguments(messages)
        async with self.services.engine.connect() as pooled:
            connection = (await pooled.get_raw_connection()).driver_connection
            assert connection is not None  # noqa: S101 - a checked-out connection
            try:
                if len(messages) == 1:
                    # One row cannot deadlock: one statement in autocommit, one round trip.
                    # Behind PgBouncer in transaction mode too (database_pooling): without
                    # a statement cache asyncpg parses it unnamed, ending that round trip
                    # with Flush, not Sync, so the pooler keeps this server connection for
                    # the Bind that follows (tests/infra/test_pgbouncer.py, under load).
                    rows = await connection.fetch(_APPEND_BATCH, *arguments)
                else:
                    async with connection.transaction():
                        ids = sorted({m.conversation_id for m in messages})
                        await connection.execute(_LOCK_IN_ORDER, ids)
                        rows = await connection.fetch(_APPEND_BATCH, *arguments)
            except asyncpg.PostgresError as error:
                if not is_outage(error):
                    raise
                await pooled.invalidate()
                raise
            except BaseException:
                await pooled.invalidate()  # the connection may be broken: not back in the pool
                raise
        stored = {row[1]: Appended(int(row[0]), int(row[2]), row[3], str(row[4])) for row in rows}
        return [stored.get(message.conversation_id) for message in messages]


def _arguments(messages: list[Outgoing]) -> list[Any]:
    return [
        [m.conversation_id for m in messages],
        [m.owner_id for m in messages],
        [m.sender.value for m in messages],
        [m.author_id for m in messages],
        [m.client_msg_id for m in messages],
        [m.body for m in messages],
        list(OPEN_STATUSES),
        Status.active.value,
    ]
