"""Who is there, in Redis only (never stored): counsellors with an open console, and
visitors with an open chat page.

Counsellors: a threshold on "last heard". Visitors: each process renews the entries of the
sockets it holds (chat/realtime/visitor_sockets.py), with a TTL, so the answer holds across
instances and survives none of them: a killed process stops renewing and its visitors turn
away after the TTL. One sorted set says it per conversation:

``presence:live``  conversation → "present until" (epoch seconds). Present while that lies
ahead; once it has passed, the same score is the moment the visitor became *away*.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from clb.redis import Keys, RedisClient

FRESH_SECONDS = 30
# Nothing open stays away this long; older entries are only clutter.
FORGET_AFTER_SECONDS = 24 * 3600


def _counsellors(keys: Keys) -> str:
    return keys.key("presence", "counsellors")


def live_key(keys: Keys) -> str:
    return keys.key("presence", "live")


async def heard_from_counsellor(redis: RedisClient, keys: Keys, staff_id: uuid.UUID) -> None:
    await redis.zadd(_counsellors(keys), {str(staff_id): time.time()})


async def counsellor_left(redis: RedisClient, keys: Keys, staff_id: uuid.UUID) -> None:
    await redis.zrem(_counsellors(keys), str(staff_id))


async def fresh_counsellors(redis: RedisClient, keys: Keys) -> set[uuid.UUID]:
    """Counsellors whose console was heard from within FRESH_SECONDS (duty not considered)."""
    now = time.time()
    # Consoles that went away without a word (a killed process) leave a member behind.
    await redis.zremrangebyscore(_counsellors(keys), "-inf", now - 24 * 3600)
    members = await redis.zrangebyscore(_counsellors(keys), now - FRESH_SECONDS, "+inf")
    return {uuid.UUID(m.decode() if isinstance(m, bytes) else str(m)) for m in members}


async def _scores(redis: RedisClient, keys: Keys, ids: list[uuid.UUID]) -> list[float | None]:
    if not ids:
        return []
    scores: list[float | None] = await redis.zmscore(live_key(keys), [str(i) for i in ids])
    return scores


async def present_visitors(
    redis: RedisClient, keys: Keys, ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of ``ids`` whose visitor has a chat page open now (or closed one within the
    grace time)."""
    wanted = list(ids)
    now = time.time()
    scores = await _scores(redis, keys, wanted)
    return {i for i, score in zip(wanted, scores, strict=True) if score and score > now}


async def visitor_states(
    redis: RedisClient, keys: Keys, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, float | None]:
    """Per conversation: None while the visitor is present, else since when (epoch
    seconds) they have been away; ``0.0`` when never seen at all."""
    wanted = list(ids)
    now = time.time()
    scores = await _scores(redis, keys, wanted)
    return {
        i: (None if score and score > now else float(score or 0.0))
        for i, score in zip(wanted, scores, strict=True)
    }


async def away_since_or_now(
    redis: RedisClient, keys: Keys, ids: list[uuid.UUID]
) -> dict[uuid.UUID, float]:
    """For the conversations whose visitor is away: since when. One never seen (created
    but never connected, or Redis lost its memory in a restart) is away from *now* on, so
    it gets a whole return window from the first time anyone asks."""
    if not ids:
        return {}
    now = time.time()
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zadd(live_key(keys), {str(i): now for i in ids}, nx=True)
        pipe.zmscore(live_key(keys), [str(i) for i in ids])
        _, scores = await pipe.execute()
    return {i: float(s) for i, s in zip(ids, scores, strict=True) if s is not None and s <= now}


async def forget_old(redis: RedisClient, keys: Keys) -> None:
    await redis.zremrangebyscore(live_key(keys), "-inf", time.time() - FORGET_AFTER_SECONDS)
