"""Counting the toolbox's searches and clicks: counters in Redis, flushed to PostgreSQL.

The search page is the toolbox's hot path (p99 under 20 ms), so counting a search costs one
round trip to Redis (a script: ``HINCRBY`` on one hash) and no write in PostgreSQL. A write
per search would put a row lock and a commit on every search, and popular queries ("pesten")
would queue on the same row. Every app instance counts in the same Redis hash, so two or more
instances add up; the worker moves the counts into ``toolbox_search_log`` every minute
(:func:`flush_counts`), so the console list is at most a minute or two behind.

A count is a number of visitors, not of requests: one visitor's searches (and clicks) for
one query count once a day, so no one person can push a query over the console's threshold
("zo blijft niemand herkenbaar") by searching it again and again. The script counts only when
it can set a marker for (day, visitor, query, kind) that did not exist yet: an HMAC of those
(the visitor being the daily-salted address hash, :func:`visitor_of`), which says nothing
without the secret key and expires when the day in Brussels ends. A query that looks like
personal data (a phone number, an e-mail address) is never counted at all
(:func:`looks_personal`).

The flush is safe with several workers and across failures: a script renames the live hash
to a batch of its own and notes it in a set of pending batches (one atomic step, so no count
lands in two batches); a flusher takes a batch by removing it from that set (only one can),
adds its counts in one transaction, and puts it back when the transaction fails. A worker
that dies between taking a batch and committing loses that minute's counts: these are
statistics, and losing a minute beats counting it twice.

The counts hold no person: the query, normalised (lower case, accents off, one space between
words, at most 100 characters), the day in Brussels, and a number; the visitor is only in the
day's markers (Redis, never PostgreSQL). A Redis that cannot answer costs the search nothing:
the count is dropped (one warning per outage).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import math
import re
import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Awaitable
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from chat.public import is_crisis_text
from clb.config import Settings
from clb.db import transaction
from clb.health.outage import note_outage
from clb.ratelimit import REDIS_FAILURES
from clb.services import Services
from clb.web.security import hash_ip
from toolbox.search.vocabulary import normalise_word
from toolbox.search_insights import repository
from toolbox.search_insights.repository import DayCounts

log = logging.getLogger(__name__)

BRUSSELS = ZoneInfo("Europe/Brussels")
MAX_QUERY = 100
MAX_COUNT = 1_000_000
REDIS_WAIT_SECONDS = 0.25
# The live hash and the batches expire if no worker ever flushes them (memory stays bounded).
KEEP_UNFLUSHED_SECONDS = 7 * 24 * 3600
# One hash tag: on a Redis Cluster the live hash, the batches and the pending set share a slot,
# so the script that renames the one into the other may touch them together.
TAG = "{toolbox-search-log}"
SEARCH, ZERO, CLICK = "s", "z", "c"

# A phone, account or national register number: six digits or more, whether written in one
# run or in groups ("0470 12 34 56", "0470/12.34.56" normalise to digits between spaces).
_DIGIT_RUN = re.compile(r"\d(?: ?\d){5,}")
# An e-mail address: something@something (also a full-width or small "@", folded by NFKC).
_EMAIL = re.compile(r"[^\s@]@[^\s@]")

# Counts one search or click per visitor. KEYS[1]: the live hash; KEYS[2..]: the day's marker
# for each counter. ARGV[1]: seconds the markers live (to the end of the day in Brussels);
# ARGV[2]: seconds the live hash lives; ARGV[3..]: the counter (hash field) of each marker.
# Every key carries TAG: on a Redis Cluster they are in one slot, so one script may touch them.
_COUNT_ONCE = """
local counted = 0
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('HINCRBY', KEYS[1], ARGV[i + 1], 1)
    counted = counted + 1
  end
end
if counted > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return counted
"""

# KEYS: live hash, new batch, pending set. ARGV: expiry in seconds.
_TAKE_LIVE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
  redis.call('SADD', KEYS[3], KEYS[2])
  redis.call('EXPIRE', KEYS[3], ARGV[1])
end
return redis.call('SMEMBERS', KEYS[3])
"""


T = TypeVar("T")


async def _answer(reply: Awaitable[T] | T) -> T:
    """redis-py types its commands as "awaitable or not" (one type for both clients)."""
    return await reply if isinstance(reply, Awaitable) else reply


def normalise_query(text: str) -> str:
    """As the search compares words (lower case, accents off, the words one space apart),
    at most ``MAX_QUERY`` characters: "  Gepést!! " and "gepest" are one query."""
    return normalise_word(text)[:MAX_QUERY].rstrip()


def looks_personal(query: str) -> bool:
    """Whether ``query`` may hold someone's personal data: six digits or more in a run
    (spaces, dots, dashes or slashes between them allowed: a phone, account or national
    register number) or an e-mail address. Such a query is not counted at all."""
    if _EMAIL.search(unicodedata.normalize("NFKC", query)):
        return True
    return _DIGIT_RUN.search(normalise_word(query)) is not None


def visitor_of(request: Request) -> str:
    """Who searched or clicked, as far as the log needs to know: the platform's salted hash
    of the client address (``clb.web.security.hash_ip``, as ``ip_hash`` keys the rate limits),
    its salt turning with the day in Brussels, the day the counts are kept under (``ip_hash``
    turns at midnight UTC, in the middle of a Brussels night). Never stored as such."""
    settings: Settings = request.app.state.settings
    address = _household(request.client.host if request.client else "unknown")
    return hash_ip(address, settings.secret_key or "", now=datetime.now(BRUSSELS))


def _household(address: str) -> str:
    """An IPv6 address as its /64: one connection holds a whole /64 and may take a new
    address in it at will, which must not make one visitor many."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return address


def _today() -> date:
    return datetime.now(BRUSSELS).date()


def _seconds_left(day: date) -> int:
    """Seconds until ``day`` ends in Brussels (at least one)."""
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=BRUSSELS)
    return max(1, math.ceil((end - datetime.now(BRUSSELS)).total_seconds()))


def _live_key(services: Services) -> str:
    return services.keys.key(TAG, "live")


def _marker_key(services: Services, day: str, visitor: str, query: str, kind: str) -> str:
    """The day's marker for one visitor, query and kind: keyed with the secret, so neither
    who nor what can be read from it, or guessed by hashing a query."""
    secret = (services.settings.secret_key or "").encode()
    message = "|".join((day, kind, visitor, query)).encode()
    digest = hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]
    return services.keys.key(TAG, "seen", day, digest)


async def _count(services: Services, query: str, kinds: tuple[str, ...], visitor: str) -> None:
    """Count ``kinds`` for ``query`` today, each once per visitor."""
    if looks_personal(query):
        return
    normalised = normalise_query(query)
    if not normalised:
        return
    day = _today()
    day_text = day.isoformat()
    markers = [_marker_key(services, day_text, visitor, normalised, kind) for kind in kinds]
    counters = [f"{kind}|{day_text}|{normalised}" for kind in kinds]
    # A cluster runs scripts as well (redis-py types register_script for Redis only).
    script = services.redis.register_script(_COUNT_ONCE)  # type: ignore[misc]
    try:
        async with asyncio.timeout(REDIS_WAIT_SECONDS):
            await script(
                keys=[_live_key(services), *markers],
                args=[_seconds_left(day), KEEP_UNFLUSHED_SECONDS, *counters],
            )
    except REDIS_FAILURES as error:
        note_outage(log, "toolbox search log (count dropped)", error)


async def record_search(services: Services, query: str, result_count: int, *, visitor: str) -> None:
    """Count a search for ``query`` (and one without results when ``result_count`` is 0),
    once a day per ``visitor`` (:func:`visitor_of`). An empty query (only spaces or signs)
    and one that looks like personal data are not counted."""
    await _count(services, query, (SEARCH, ZERO) if result_count == 0 else (SEARCH,), visitor)


async def record_click(
    services: Services, session: AsyncSession, query: str, tool_slug: str, *, visitor: str
) -> None:
    """Count a click on a result of a search for ``query``, once a day per ``visitor``, when
    ``tool_slug`` is a published tool's (an old slug of one included): a click on anything
    else is not counted. Which tool is not kept: the log counts what people looked for, not
    what one person opened. A crisis search is never logged (the search page counts it by
    the safety net alone, and shows it no click beacon): a click on one is not counted."""
    if looks_personal(query) or not normalise_query(query):
        return  # never counted: no need to look the tool up
    if await is_crisis_text(services, query):
        return
    if await repository.is_published_tool(session, tool_slug):
        await _count(services, query, (CLICK,), visitor)


def _parse(fields: dict[bytes, bytes]) -> list[DayCounts]:
    totals: dict[tuple[date, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for raw_field, raw_value in fields.items():
        kind, _, rest = raw_field.decode("utf-8", "replace").partition("|")
        day_text, _, query = rest.partition("|")
        try:
            day = date.fromisoformat(day_text)
            # No minute holds a million searches of one query: a value beyond is not ours,
            # and would fail the batch's insert for ever.
            value = min(max(int(raw_value), 0), MAX_COUNT)
        except ValueError:
            continue
        if query and kind in (SEARCH, ZERO, CLICK):
            totals[(day, query[:MAX_QUERY])][kind] += value
    return [
        DayCounts(day, query, counts[SEARCH], counts[ZERO], counts[CLICK])
        for (day, query), counts in totals.items()
    ]


async def flush_counts(services: Services) -> int:
    """Move every counted search and click from Redis into PostgreSQL; the number of
    (day, query) rows written."""
    redis, keys = services.redis, services.keys
    pending = keys.key(TAG, "pending")
    batch = keys.key(TAG, "batch", secrets.token_hex(8))
    script = redis.register_script(_TAKE_LIVE)  # type: ignore[misc]
    names: list[bytes] = await script(
        keys=[_live_key(services), batch, pending], args=[KEEP_UNFLUSHED_SECONDS]
    )
    written = 0
    for raw_name in sorted(names):
        name = raw_name.decode()
        if not await _answer(redis.srem(pending, name)):
            continue  # another flusher took this batch
        rows = _parse(await _answer(redis.hgetall(name)))
        try:
            async with transaction(services.sessionmaker) as session:
                await repository.add_counts(session, rows)
        except BaseException:
            await _answer(redis.sadd(pending, name))
            raise
        await redis.delete(name)
        written += len(rows)
    return written
