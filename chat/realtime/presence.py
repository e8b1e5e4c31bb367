"""Who is there, in Redis only (never stored): counsellors with an open console, and
visitors with an open chat page. Absence is decided by a threshold on "last heard"."""

from __future__ import annotations

import time
import uuid

from redis.asyncio import Redis

from clb.redis import Keys

FRESH_SECONDS = 30


def _counsellors(keys: Keys) -> str:
    return keys.key("presence", "counsellors")


def _visitors(keys: Keys) -> str:
    return keys.key("presence", "visitors")


async def heard_from_counsellor(redis: Redis, keys: Keys, staff_id: uuid.UUID) -> None:
    await redis.zadd(_counsellors(keys), {str(staff_id): time.time()})


async def counsellor_left(redis: Redis, keys: Keys, staff_id: uuid.UUID) -> None:
    await redis.zrem(_counsellors(keys), str(staff_id))


async def fresh_counsellors(redis: Redis, keys: Keys) -> set[uuid.UUID]:
    """Counsellors whose console was heard from within FRESH_SECONDS (duty not considered)."""
    now = time.time()
    # Consoles that went away without a word (a killed process) leave a member behind.
    await redis.zremrangebyscore(_counsellors(keys), "-inf", now - 24 * 3600)
    members = await redis.zrangebyscore(_counsellors(keys), now - FRESH_SECONDS, "+inf")
    return {uuid.UUID(m.decode() if isinstance(m, bytes) else str(m)) for m in members}


async def heard_from_visitor(redis: Redis, keys: Keys, conversation_id: uuid.UUID) -> None:
    await redis.zadd(_visitors(keys), {str(conversation_id): time.time()})


async def visitor_left(redis: Redis, keys: Keys, conversation_id: uuid.UUID) -> None:
    await redis.zrem(_visitors(keys), str(conversation_id))


async def connected_visitors(redis: Redis, keys: Keys, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    scores = await redis.zmscore(_visitors(keys), [str(i) for i in ids])
    cutoff = time.time() - FRESH_SECONDS
    return {i for i, score in zip(ids, scores, strict=True) if score and score > cutoff}
