"""Read receipts without a database write each.

A page sends a ``read`` receipt for the messages it shows, about one per message. The other
side hears of it at once (published by the socket, which knows it may: its own chat, and no
further than it has been sent). The marks themselves (``*_delivered_seq``, ``*_read_seq`` on
the conversation) only serve the next page load, so this process keeps the latest per
conversation and writes them all in one transaction every ``FLUSH_SECONDS``; a mark never
moves back and never past the conversation's last message. A process that dies loses at
most that much of its marks; the pages still showed the receipts live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import text

from chat.conversations.models import Sender
from clb.health.outage import is_outage, note_outage
from clb.services import Services

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
# The rows are locked in one order first, as the message batches lock them (group_commit).
_LOCK_IN_ORDER = text(
    "SELECT id FROM conversations WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE"
)
_ADVANCE = """
UPDATE conversations c SET
    {side}_delivered_seq = GREATEST(c.{side}_delivered_seq, LEAST(m.delivered, c.last_seq)),
    {side}_read_seq = GREATEST(c.{side}_read_seq, LEAST(m.read, c.last_seq))
FROM unnest(CAST(:ids AS uuid[]), CAST(:owners AS uuid[]), CAST(:delivered AS int[]),
            CAST(:read AS int[])) AS m(id, owner, delivered, read)
WHERE c.id = m.id AND c.{side}_id = m.owner
"""
_ADVANCE_BY_SIDE = {side: text(_ADVANCE.format(side=side)) for side in ("visitor", "counsellor")}


@dataclass
class Mark:
    owner_id: uuid.UUID  # the visitor, or the counsellor who sent it (checked when written)
    delivered: int = 0
    read: int = 0


class ReceiptMarks:
    """The marks this process has heard and not yet written."""

    KEY = "chat.receipt_marks"

    def __init__(self, services: Services) -> None:
        self.services = services
        self.pending: dict[tuple[uuid.UUID, str], Mark] = {}

    @classmethod
    def of(cls, services: Services) -> ReceiptMarks:
        marks = services.local.get(cls.KEY)
        if marks is None:
            marks = services.local[cls.KEY] = cls(services)
            _ = services.run_in_background(marks.flush_forever())
        assert isinstance(marks, ReceiptMarks)  # noqa: S101 - one type under this key
        return marks

    def note(
        self, conversation_id: uuid.UUID, by: Sender, owner_id: uuid.UUID, kind: str, seq: int
    ) -> None:
        """Remember a receipt (``read`` counts as ``delivered`` too)."""
        mark = self.pending.get((conversation_id, by.value))
        if mark is None or mark.owner_id != owner_id:
            mark = self.pending[(conversation_id, by.value)] = Mark(owner_id)
        mark.delivered = max(mark.delivered, seq)
        if kind == "read":
            mark.read = max(mark.read, seq)

    async def flush_forever(self) -> None:
        try:
            while True:
                await asyncio.sleep(FLUSH_SECONDS)
                await self.flush_or_keep()
        finally:  # stopping: write what is left, briefly
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.flush_or_keep(), 2)

    async def flush_or_keep(self) -> None:
        """Write the marks; during an outage keep them for the next try."""
        try:
            await self.flush()
        except Exception as error:
            if not is_outage(error):
                raise
            note_outage(log, "receipt marks", error)

    async def flush(self) -> None:
        if not self.pending:
            return
        taken, self.pending = self.pending, {}
        try:
            await self._write(taken)
        except BaseException:
            for key, mark in taken.items():  # newer marks heard meanwhile win
                newer = self.pending.setdefault(key, mark)
                newer.delivered = max(newer.delivered, mark.delivered)
                newer.read = max(newer.read, mark.read)
            raise

    async def _write(self, taken: dict[tuple[uuid.UUID, str], Mark]) -> None:
        async with self.services.engine.begin() as connection:
            ids = sorted({conversation_id for conversation_id, _ in taken})
            await connection.execute(_LOCK_IN_ORDER, {"ids": ids})
            for side, statement in _ADVANCE_BY_SIDE.items():
                marks = [(cid, mark) for (cid, by), mark in taken.items() if by == side]
                if marks:
                    await connection.execute(
                        statement,
                        {
                            "ids": [cid for cid, _ in marks],
                            "owners": [mark.owner_id for _, mark in marks],
                            "delivered": [mark.delivered for _, mark in marks],
                            "read": [mark.read for _, mark in marks],
                        },
                    )
