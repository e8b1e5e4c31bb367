"""The visitor sockets one process holds: admission under caps, and the heartbeat that
keeps their presence alive in Redis (chat/realtime/presence.py).

Three kinds of entries, each a sorted set of member → expiry (epoch seconds), renewed by
the heartbeat of the process that holds the socket:

- ``presence:conv:<conversation>``  its sockets on every instance;
- ``presence:token:<visitor>``      caps the sockets one visitor token holds;
- ``presence:address:<hash>``       caps the sockets, and the chats, behind one address.

Admission adds first and counts after, so concurrent openings can be refused together but
never all pass a cap; every command touches one key, so it runs on a Redis Cluster too.
When a socket closes, the conversation counts as present for a short grace (a refresh or
a network switch comes back within it); after that it is away, and whoever listens is told.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from chat.errors import BusyNetwork, TooManyWindows
from chat.events import conversation_channel, presence_event, queue_changed, queue_channel
from chat.realtime import presence
from clb.services import Services

log = logging.getLogger(__name__)

# Sockets renewed per Redis pipeline by the heartbeat (see _renew).
RENEW_CHUNK = 250


@dataclass(frozen=True)
class Held:
    """One socket this process holds."""

    conversation_id: uuid.UUID
    visitor_id: uuid.UUID
    address: str

    @property
    def conversation(self) -> str:
        return str(self.conversation_id)


class VisitorSockets:
    """One per process (``VisitorSockets.of(services)``)."""

    KEY = "chat.visitor_sockets"

    def __init__(self, services: Services) -> None:
        self.services = services
        self.held: dict[str, Held] = {}
        settings = services.settings
        self.ttl = float(settings.chat_presence_ttl_seconds)
        self.grace = float(settings.chat_presence_grace_seconds)

    @classmethod
    def of(cls, services: Services) -> VisitorSockets:
        registry = services.local.get(cls.KEY)
        if registry is None:
            registry = services.local[cls.KEY] = cls(services)
            _ = services.run_in_background(registry.heartbeat_forever())
        assert isinstance(registry, VisitorSockets)  # noqa: S101 - one type under this key
        return registry

    def _key(self, kind: str, name: str) -> str:
        return self.services.keys.key("presence", kind, name)

    async def admit(self, held: Held) -> str:
        """Register a new socket, or refuse it (TooManyWindows, BusyNetwork). With Redis
        away the caps cannot be counted: the socket is let in (a pupil is never turned away
        for our outage) and the heartbeat registers it once Redis is back."""
        socket = uuid.uuid4().hex
        try:
            await self._check_caps(held, socket)
        except RedisError as error:
            log.warning("visitor admitted uncounted: %s", type(error).__name__)
        self.held[socket] = held
        with contextlib.suppress(RedisError):
            await self._renew({socket: held}, time.time())
        return socket

    async def _check_caps(self, held: Held, socket: str) -> None:
        settings, redis = self.services.settings, self.services.redis
        token_key = self._key("token", str(held.visitor_id))
        address_key = self._key("address", held.address)
        member = f"{held.conversation}/{socket}"
        now = time.time()
        async with redis.pipeline(transaction=False) as pipe:
            for key, name in ((token_key, socket), (address_key, member)):
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zadd(key, {name: now + self.ttl})
                pipe.expire(key, int(self.ttl * 3))
            pipe.zcard(token_key)
            pipe.zrange(address_key, 0, -1)
            *_, token_sockets, address_members = await pipe.execute()
        chats = {bytes(m).split(b"/", 1)[0] for m in address_members}
        refusal: type[TooManyWindows | BusyNetwork] | None = None
        if token_sockets > settings.chat_sockets_per_visitor:
            refusal = TooManyWindows
        elif (
            len(address_members) > settings.chat_sockets_per_address
            or len(chats) > settings.chat_conversations_per_address
        ):
            refusal = BusyNetwork
        if refusal is not None:
            async with redis.pipeline(transaction=False) as pipe:
                pipe.zrem(token_key, socket)
                pipe.zrem(address_key, member)
                await pipe.execute()
            raise refusal()

    async def _renew(self, sockets: dict[str, Held], now: float) -> None:
        """Push the expiry of ``sockets`` forward, RENEW_CHUNK sockets per pipeline: a
        process holding thousands of sockets then never stops its loop for long (building
        one pipeline of 7 commands per socket for all of them blocked pings for 0.1 s per
        2,000 sockets)."""
        items = list(sockets.items())
        for start in range(0, len(items), RENEW_CHUNK):
            await self._renew_chunk(items[start : start + RENEW_CHUNK], now)

    async def _renew_chunk(self, sockets: list[tuple[str, Held]], now: float) -> None:
        until, keep = now + self.ttl, int(self.ttl * 3)
        live = presence.live_key(self.services.keys)
        async with self.services.redis.pipeline(transaction=False) as pipe:
            for socket, held in sockets:
                entries = (
                    (self._key("conv", held.conversation), socket),
                    (self._key("token", str(held.visitor_id)), socket),
                    (self._key("address", held.address), f"{held.conversation}/{socket}"),
                )
                for key, name in entries:
                    pipe.zadd(key, {name: until})
                    pipe.expire(key, keep)
                pipe.zadd(live, {held.conversation: until}, gt=True)
            await pipe.execute()

    async def heartbeat_forever(self) -> None:
        """Renew every held socket each quarter TTL. Redis being away is survived: the
        next beat tries again (and the visitors are simply away meanwhile)."""
        failing = False
        while True:
            await asyncio.sleep(self.ttl / 4)
            try:
                if self.held:
                    await self._renew(dict(self.held), time.time())
            except Exception as error:  # noqa: BLE001 - keep beating whatever went wrong
                if not failing:
                    log.warning("visitor presence not renewed: %s", type(error).__name__)
                failing = True
            else:
                if failing:
                    log.warning("visitor presence renewed again")
                failing = False

    async def release(self, socket: str, *, waiting: bool) -> None:
        """The socket closed. If it was the conversation's last anywhere, its visitor is
        there for the grace time more, and then away: the queue and the console hear it."""
        held = self.held.pop(socket, None)
        if held is None:
            return
        redis, now = self.services.redis, time.time()
        conv_key = self._key("conv", held.conversation)
        async with redis.pipeline(transaction=False) as pipe:
            pipe.zrem(self._key("token", str(held.visitor_id)), socket)
            pipe.zrem(self._key("address", held.address), f"{held.conversation}/{socket}")
            pipe.zrem(conv_key, socket)
            pipe.zremrangebyscore(conv_key, "-inf", now)
            pipe.zcard(conv_key)
            *_, remaining = await pipe.execute()
        if remaining:
            return
        live = presence.live_key(self.services.keys)
        await redis.zadd(live, {held.conversation: now + self.grace}, lt=True)
        _ = self.services.run_in_background(self._announce_away(held.conversation_id, waiting))

    async def _announce_away(self, conversation_id: uuid.UUID, waiting: bool) -> None:
        await asyncio.sleep(self.grace + 0.1)
        with contextlib.suppress(Exception):
            states = await presence.visitor_states(
                self.services.redis, self.services.keys, [conversation_id]
            )
            since = states.get(conversation_id)
            if since is None:  # back in time
                return
            await self.publish(presence_event(conversation_id, since=since), conversation_id)
            if waiting:
                await self.services.bus.publish(queue_channel(self.services.keys), queue_changed())

    async def publish(self, event: dict[str, Any], conversation_id: uuid.UUID) -> None:
        channel = conversation_channel(self.services.keys, conversation_id)
        await self.services.bus.publish(channel, event)

    async def announce_present(self, conversation_id: uuid.UUID, *, waiting: bool) -> None:
        """Best effort: without Redis nobody listens, and the console's own check and the
        queue watcher's refresh catch up later."""
        with contextlib.suppress(RedisError):
            await self.publish(presence_event(conversation_id, since=None), conversation_id)
            if waiting:
                queue = queue_channel(self.services.keys)
                await self.services.bus.publish(queue, queue_changed())
