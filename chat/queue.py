"""The honest queue: a waiting visitor's position and an estimate we can stand behind.

EWT = (⌊(n−1)/X⌋+1) × recent median handling time (ARCHITECTURE §5, after comm100), rounded
up, and beyond half an hour only "more than 30 minutes". No counsellor on: no number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chat import presence, repository
from chat.models import Conversation
from clb.services import Services

# CLBCh@t's published average chat length, used until there are enough recent chats.
DEFAULT_HANDLING_MINUTES = 19.0
MIN_SAMPLE = 5
ESTIMATE_STEP_MINUTES = 5
ESTIMATE_CAP_MINUTES = 30


@dataclass(frozen=True)
class Estimate:
    minutes: int
    more_than: bool

    def as_dict(self) -> dict[str, Any]:
        return {"minutes": self.minutes, "more_than": self.more_than}


def estimate_wait(
    position: int, counsellors: int, capacity: int, busy: int, handling_minutes: float
) -> Estimate | None:
    """EWT = (⌊(n−1)/X⌋+1) × handling time, where n is the place among those not served by
    a free slot right away and X the total slots. Rounded up, and beyond the cap only
    "more than": a wrong exact figure is worse than an honest range. None: nobody is on."""
    slots = counsellors * capacity
    if slots <= 0:
        return None
    free = max(0, slots - busy)
    if position <= free:
        return Estimate(ESTIMATE_STEP_MINUTES, more_than=False)
    n = position - free
    minutes = (math.floor((n - 1) / slots) + 1) * handling_minutes
    rounded = max(
        ESTIMATE_STEP_MINUTES, math.ceil(minutes / ESTIMATE_STEP_MINUTES) * ESTIMATE_STEP_MINUTES
    )
    if rounded > ESTIMATE_CAP_MINUTES:
        return Estimate(ESTIMATE_CAP_MINUTES, more_than=True)
    return Estimate(rounded, more_than=False)


async def queue_frame(
    session: AsyncSession, services: Services, conversation: Conversation
) -> dict[str, Any]:
    position = await repository.queue_position(session, conversation)
    median, sample = await repository.median_handling_minutes(session)
    estimate = estimate_wait(
        position,
        counsellors=await presence.present_counsellors(services.redis, services.keys),
        capacity=services.settings.chat_counsellor_capacity,
        busy=await repository.active_count(session),
        handling_minutes=median if sample >= MIN_SAMPLE else DEFAULT_HANDLING_MINUTES,
    )
    return {
        "type": "queue",
        "conversation_id": str(conversation.id),
        "position": position,
        "estimate": estimate.as_dict() if estimate else None,
    }
