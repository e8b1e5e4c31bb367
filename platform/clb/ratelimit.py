"""A Redis-backed rate limiter (GCRA) for HTTP routes and WebSocket frames alike.

GCRA keeps one timestamp per key, allows short bursts up to the limit and answers with the
exact time to wait, so the person sees "try again in 40 seconds" rather than a vague no.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from clb.errors import RateLimited
from clb.health.outage import note_outage
from clb.redis import Keys, RedisClient

# Whatever stops a Redis answer makes the limiter count in this process for a while: a lost
# connection, a cluster that is failing over (CLUSTERDOWN, TRYAGAIN, MOVED without a new
# owner yet, which redis-py raises as RedisClusterException, not a RedisError), and redis-py's
# asyncio cluster client's race in which a connection that another task closed fails with
# an AttributeError (its writer is gone) or, under uvloop, a RuntimeError (its handle is
# closed). A send is never refused, or its socket failed, because of the limiter's own
# outage.
REDIS_FAILURES: tuple[type[BaseException], ...] = (
    RedisError,
    RedisClusterException,
    OSError,
    TimeoutError,
    AttributeError,
    RuntimeError,
)

log = logging.getLogger(__name__)

# How long a limit check waits for Redis, and how long it then counts locally.
REDIS_WAIT_SECONDS = 0.25
LOCAL_FOR_SECONDS = 5.0

# KEYS[1]: the key. ARGV: period_ms per request, burst (limit), consume (1/0).
# Uses the server's clock so several app instances agree.
_GCRA = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local consume = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - (burst - 1) * interval
if now < allow_at then
  return {0, allow_at - now}
end
if consume == 1 then
  local new_tat = tat + interval
  redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
end
return {1, 0}
"""

# The same for several keys at once (one round trip on the chat's send path): KEYS are the
# keys, ARGV holds (period_ms, burst) per key. Counts on every key only when all allow;
# otherwise the longest wait.
_GCRA_ALL = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  tats[i] = tat
  local allow_at = tat - (burst - 1) * interval
  if now < allow_at and allow_at - now > wait then wait = allow_at - now end
end
if wait > 0 then return {0, wait} end
for i, key in ipairs(KEYS) do
  local new_tat = tats[i] + tonumber(ARGV[2 * i - 1])
  redis.call('SET', key, new_tat, 'PX', new_tat - now)
end
return {1, 0}
"""


@dataclass(frozen=True)
class Rate:
    """``limit`` events per ``seconds``, allowing a burst of ``limit``."""

    limit: int
    seconds: float

    @property
    def interval_ms(self) -> int:
        return max(1, int(self.seconds * 1000 / self.limit))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float

    def raise_if_denied(self, message: str | None = None) -> None:
        if not self.allowed:
            raise RateLimited(math.ceil(self.retry_after), message)


class LocalLimits:
    """The same GCRA in this process's memory: what the limiter falls back on while Redis is
    away. Limits then hold per process instead of across all of them (at most N times the
    rate with N instances): floods stay refused, and people are never refused because of
    our outage."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._tat: dict[str, float] = {}

    def run(self, name: str, rate: Rate, *, consume: bool) -> Decision:
        now = time.monotonic() * 1000
        if len(self._tat) > self.MAX_KEYS:
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        interval = rate.interval_ms
        tat = max(self._tat.get(name, now), now)
        allow_at = tat - (rate.limit - 1) * interval
        if now < allow_at:
            return Decision(False, (allow_at - now) / 1000)
        if consume:
            self._tat[name] = tat + interval
        return Decision(True, 0)


class RateLimiter:
    def __init__(self, redis: RedisClient, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        # A cluster runs scripts as well (redis-py types register_script for Redis only).
        self._script = redis.register_script(_GCRA)  # type: ignore[misc]
        self._all_script = redis.register_script(_GCRA_ALL)  # type: ignore[misc]
        self._local = LocalLimits()
        self._local_until = 0.0

    async def hit(self, name: str, rate: Rate) -> Decision:
        """Count one event under ``name`` and say whether it is allowed."""
        return await self._run(name, rate, consume=True)

    async def peek(self, name: str, rate: Rate) -> Decision:
        """Say whether one more event would be allowed, without counting it."""
        return await self._run(name, rate, consume=False)

    async def hit_all(self, limits: list[tuple[str, Rate]]) -> Decision:
        """Count one event under every name, if every limit allows it (else none)."""
        if isinstance(self._redis, RedisCluster):
            # The keys lie on different shards and a script touches one shard: look at
            # each, then count each. Two racing sends may both pass the look; the limits
            # stay bounds on floods, not exact counts.
            for name, rate in limits:
                decision = await self.peek(name, rate)
                if not decision.allowed:
                    return decision
            for name, rate in limits:
                await self.hit(name, rate)
            return Decision(True, 0)
        if time.monotonic() >= self._local_until:
            args: list[int] = []
            for _, rate in limits:
                args += [rate.interval_ms, rate.limit]
            keys = [self._keys.key("rl", name) for name, _ in limits]
            try:
                async with asyncio.timeout(REDIS_WAIT_SECONDS):  # no task per call
                    allowed, wait_ms = await self._all_script(keys=keys, args=args)
                return Decision(bool(allowed), int(wait_ms) / 1000)
            except REDIS_FAILURES as error:
                note_outage(log, "rate limiter (counting in this process)", error)
                self._local_until = time.monotonic() + LOCAL_FOR_SECONDS
        checks = [self._local.run(name, rate, consume=False) for name, rate in limits]
        refused = [check for check in checks if not check.allowed]
        if refused:
            return max(refused, key=lambda check: check.retry_after)
        for name, rate in limits:
            self._local.run(name, rate, consume=True)
        return Decision(True, 0)

    async def reset(self, name: str) -> None:
        await self._redis.delete(self._keys.key("rl", name))

    async def _run(self, name: str, rate: Rate, *, consume: bool) -> Decision:
        # The limiter sits on every chat send: it never makes one wait for a slow Redis.
        # After a failure it counts locally for a while before asking Redis again.
        if time.monotonic() < self._local_until:
            return self._local.run(name, rate, consume=consume)
        try:
            async with asyncio.timeout(REDIS_WAIT_SECONDS):  # no task per call
                allowed, wait_ms = await self._script(
                    keys=[self._keys.key("rl", name)],
                    args=[rate.interval_ms, rate.limit, 1 if consume else 0],
                )
        except REDIS_FAILURES as error:
            note_outage(log, "rate limiter (counting in this process)", error)
            self._local_until = time.monotonic() + LOCAL_FOR_SECONDS
            return self._local.run(name, rate, consume=consume)
        return Decision(bool(allowed), int(wait_ms) / 1000)
