"""Redis pub/sub fan-out: one pub/sub connection per process, one subscription per channel.

Local subscribers are reference-counted per channel: the first one SUBSCRIBEs, the last one
UNSUBSCRIBEs. Each subscriber has a bounded queue; one that cannot keep up is cut off
(:class:`SlowSubscriber`) instead of slowing the others, and resumes from the database.
Pub/sub is at-most-once, so it is a fast path, never the record: when the connection to
Redis drops, every subscriber receives a ``gap`` message as soon as its channel is subscribed
again, and replays what it missed (subscribe first, then replay: nothing falls in between).
No PSUBSCRIBE: patterns make every PUBLISH cost O(patterns) on the server.

On a Redis Cluster: sharded pub/sub, one connection ("link") per shard, SSUBSCRIBE on the
shard that owns the channel's slot. When a shard fails over or a slot moves, its link starts
over on the new topology and its subscribers hear of the gap, as after a lost connection.

Publishing never makes the caller (an acked send) wait for Redis: events join one ordered
queue per process, sent by one task in pipelined batches. While Redis is away they wait, in
order, unless older than ``PUBLISH_MAX_AGE``: their subscribers replay on the gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ClusterError, RedisClusterException, RedisError

from clb.redis import RedisClient, ShardedPubSub, close_quietly, create_node_redis, shard_of

log = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT = 5.0
ROUTE_CHECK_SECONDS = 2.0  # on a cluster: how often a link checks its channels' owners


class SubscribeTimeout(TimeoutError):
    """Redis did not confirm a subscription within SUBSCRIBE_TIMEOUT (it is away)."""


PUBLISH_BATCH = 512
PUBLISH_MAX_AGE = 60.0
PUBLISH_QUEUE_LIMIT = 100_000


class SlowSubscriber(Exception):
    """The subscriber's queue overflowed; it must resume from the database."""


class BusClosed(Exception):
    """The bus is shutting down."""


@dataclass(frozen=True)
class BusMessage:
    channel: str
    data: dict[str, Any] | None = None
    gap: bool = False


class Subscription:
    """A bounded list and a bare future: thousands of sockets hold one for hours, so it must
    cost little while idle (an asyncio.Queue is several KiB)."""

    def __init__(self, channel: str, maxsize: int) -> None:
        self.channel = channel
        self._maxsize = maxsize
        self._pending: list[BusMessage | None] = []
        self._wakeup: asyncio.Future[None] | None = None
        self._overflowed = False

    def _offer(self, message: BusMessage | None) -> None:
        if self._overflowed:
            return
        if len(self._pending) >= self._maxsize:
            self._overflowed = True
        else:
            self._pending.append(message)
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def get(self) -> BusMessage:
        while not self._pending and not self._overflowed:
            self._wakeup = asyncio.get_running_loop().create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None
        if self._overflowed:
            raise SlowSubscriber(self.channel)
        message = self._pending.pop(0)
        if message is None:
            raise BusClosed(self.channel)
        return message

    def drain(self) -> None:
        """Forget what is queued and any overflow (for those who only need *that* it moved)."""
        closed = None in self._pending
        self._pending = [None] if closed else []  # keep the close signal
        self._overflowed = False

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> BusMessage:
        try:
            return await self.get()
        except BusClosed:
            raise StopAsyncIteration from None


@dataclass(eq=False)
class _Link:
    """One pub/sub connection and its channels: all of them on one Redis; on a cluster, one
    shard's (``node`` is its "host:port")."""

    node: str
    pubsub: PubSub
    channels: set[str] = field(default_factory=set)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    resubscribe: bool = False
    reader: asyncio.Task[None] | None = None
    checked_at: float = 0.0  # when its channels' owners were last compared with the topology


@dataclass
class _Channel:
    link: _Link
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    subscribers: set[Subscription] = field(default_factory=set)
    # Set on a lost connection; the gap is announced once resubscribed (the replay then ends
    # where live delivery resumes).
    owes_gap: bool = False


class Bus:
    def __init__(self, redis: RedisClient, *, queue_size: int = 256) -> None:
        # Exactly one of the two is set.
        self._redis: Redis | None = None
        self._cluster: RedisCluster | None = None
        if isinstance(redis, Redis):
            self._redis = redis
        else:
            self._cluster = redis
        self._queue_size = queue_size
        self._channels: dict[str, _Channel] = {}
        self._links: dict[str, _Link] = {}
        self._lock = asyncio.Lock()
        self._outgoing: list[tuple[str, bytes, float]] = []
        self._outgoing_ready = asyncio.Event()
        self._outgoing_empty = asyncio.Event()
        self._outgoing_empty.set()
        self._publisher: asyncio.Task[None] | None = None
        self.publish_failing = False

    async def start(self) -> None:
        if self._cluster is not None:
            _ = await self._cluster.initialize()
        else:
            self._link("")  # one connection for every channel
        self._publisher = asyncio.create_task(self._publish_forever(), name="bus-publisher")

    async def stop(self) -> None:
        if self._publisher is not None:
            # What is queued goes out first, if Redis answers soon.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outgoing_empty.wait(), 2)
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
        for link in self._links.values():
            if link.reader is not None:
                link.reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await link.reader
            await close_quietly(link.pubsub)
        for channel in self._channels.values():
            for subscription in channel.subscribers:
                subscription._offer(None)
        self._channels.clear()
        self._links.clear()

    async def publish(self, channel: str, data: dict[str, Any]) -> None:
        """Publish to every process subscribed to ``channel``, in order; returns at once."""
        if len(self._outgoing) >= PUBLISH_QUEUE_LIMIT:
            del self._outgoing[: PUBLISH_QUEUE_LIMIT // 10]  # the oldest: replayed on the gap
        self._outgoing.append((channel, orjson.dumps(data), time.monotonic()))
        self._outgoing_empty.clear()
        self._outgoing_ready.set()

    async def _publish_forever(self) -> None:
        backoff = 0.1
        while True:
            await self._outgoing_ready.wait()
            # Let the tasks ready now add their events first: one pipeline for the turn.
            await asyncio.sleep(0)
            batch = self._outgoing[:PUBLISH_BATCH]
            try:
                await self._send(batch)
            except (RedisError, OSError) as exc:
                if not self.publish_failing:
                    log.warning("bus cannot publish, holding events: %s", type(exc).__name__)
                self.publish_failing = True
                too_old = time.monotonic() - PUBLISH_MAX_AGE
                self._outgoing = [event for event in self._outgoing if event[2] >= too_old]
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if self.publish_failing:
                log.warning("bus publishing again")
            self.publish_failing, backoff = False, 0.1
            del self._outgoing[: len(batch)]
            if not self._outgoing:
                self._outgoing_ready.clear()
                self._outgoing_empty.set()

    async def _send(self, batch: list[tuple[str, bytes, float]]) -> None:
        if self._cluster is not None:
            # The cluster's pipeline splits by shard. If one shard fails, the whole batch
            # goes again: subscribers drop what they already have (messages carry a seq).
            async with self._cluster.pipeline(transaction=False) as cluster_pipe:
                for channel, payload, _ in batch:
                    _ = cluster_pipe.execute_command("SPUBLISH", channel, payload)
                await cluster_pipe.execute()
        elif self._redis is not None:
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel, payload, _ in batch:
                    pipe.publish(channel, payload)
                await pipe.execute()

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        """Receive messages on ``channel`` from the moment this returns (confirmed by Redis)."""
        subscription = Subscription(channel, self._queue_size)
        async with self._lock:
            entry = self._channels.get(channel)
            if entry is None:
                link = self._link(self._node_of(channel))
                entry = self._channels[channel] = _Channel(link)
                link.channels.add(channel)
                if not link.resubscribe:  # else the reader subscribes once Redis is back
                    try:
                        await link.pubsub.subscribe(channel)
                    except BaseException:
                        del self._channels[channel]
                        link.channels.discard(channel)
                        raise
                link.wake.set()
            entry.subscribers.add(subscription)
        try:
            # Wait for the entry's current event: a reconnect meanwhile replaces it, and
            # the resubscription then confirms this channel too.
            deadline = time.monotonic() + SUBSCRIBE_TIMEOUT
            while not entry.ready.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SubscribeTimeout(channel)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(entry.ready.wait(), min(remaining, 0.5))
            yield subscription
        finally:
            async with self._lock:
                entry.subscribers.discard(subscription)
                if not entry.subscribers and self._channels.get(channel) is entry:
                    del self._channels[channel]
                    entry.link.channels.discard(channel)
                    with contextlib.suppress(RedisError, OSError):
                        await entry.link.pubsub.unsubscribe(channel)

    def channel_count(self) -> int:
        """How many channels this process is subscribed to (a metric)."""
        return len(self._channels)

    def local_subscriber_count(self, channel: str) -> int:
        entry = self._channels.get(channel)
        return len(entry.subscribers) if entry else 0

    def _node_of(self, channel: str) -> str:
        return "" if self._cluster is None else shard_of(self._cluster, channel)

    def _misrouted(self, link: _Link) -> bool:
        """Does the topology now put one of the link's channels on another shard? Checked
        every few seconds: a link that resubscribed mid-failover may sit on a node that no
        longer serves the slot, and no error would say so."""
        now = time.monotonic()
        if self._cluster is None or now < link.checked_at + ROUTE_CHECK_SECONDS:
            return False
        link.checked_at = now
        for channel in list(link.channels):
            with contextlib.suppress(ClusterError):
                if shard_of(self._cluster, channel) != link.node:
                    return True
        return False

    def _link(self, node: str) -> _Link:
        link = self._links.get(node)
        if link is None:
            link = self._links[node] = _Link(node, self._new_pubsub(node))
            link.reader = asyncio.create_task(self._read_forever(link), name="bus-reader")
        return link

    def _new_pubsub(self, node: str) -> PubSub:
        if self._redis is not None:
            pubsub: PubSub = self._redis.pubsub()
            return pubsub
        host, _, port = node.rpartition(":")
        return ShardedPubSub(create_node_redis(host, int(port)).connection_pool)

    async def _read_forever(self, link: _Link) -> None:
        backoff = 0.1
        while True:
            try:
                raw = await self._read_once(link)
                backoff = 0.1
                ended = raw is not None and not self._dispatch(raw)
                if ended or self._misrouted(link):
                    # The shard gave a channel up, or the slot moved: find the channels' homes.
                    await self._start_over(link)
            except Exception as exc:  # noqa: BLE001 - a reader that died would leave its subscribers deaf
                log.warning("bus connection lost, resubscribing: %s", type(exc).__name__)
                with contextlib.suppress(Exception):
                    await self._start_over(link)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _read_once(self, link: _Link) -> dict[str, Any] | None:
        if link.resubscribe:
            async with self._lock:
                if link.channels:
                    await asyncio.wait_for(link.pubsub.subscribe(*link.channels), SUBSCRIBE_TIMEOUT)
                link.resubscribe = False
        if not link.pubsub.subscribed:
            # Nothing to read until subscribe() has sent a SUBSCRIBE.
            link.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(link.wake.wait(), 1.0)
            return None
        raw: dict[str, Any] | None = await link.pubsub.get_message(timeout=1.0)
        return raw

    def _dispatch(self, raw: dict[str, Any]) -> bool:
        """Hand a message to its subscribers; False when the server ended a wanted one."""
        channel = raw["channel"].decode() if isinstance(raw["channel"], bytes) else raw["channel"]
        entry = self._channels.get(channel)
        if entry is None:
            return True
        kind = raw["type"]
        if kind in ("subscribe", "ssubscribe"):
            entry.ready.set()
            if entry.owes_gap:
                entry.owes_gap = False
                for subscription in list(entry.subscribers):
                    subscription._offer(BusMessage(channel, gap=True))
            return True
        if kind == "sunsubscribe":
            return False
        if kind not in ("message", "smessage"):
            return True
        try:
            data = orjson.loads(raw["data"])
        except orjson.JSONDecodeError:
            log.error("dropped a malformed bus message on a channel")
            return True
        message = BusMessage(channel, data)
        for subscription in list(entry.subscribers):
            subscription._offer(message)
        return True

    async def _start_over(self, link: _Link) -> None:
        """Drop the connection (subscribers hear of the gap once resubscribed)."""
        await close_quietly(link.pubsub)
        if self._cluster is not None:
            # Mid-failover: RedisClusterException, no RedisError, would end the reader.
            with contextlib.suppress(RedisError, OSError, RedisClusterException):
                await self._cluster.nodes_manager.initialize()
        async with self._lock:
            link.pubsub = self._new_pubsub(link.node)
            moving, link.channels = link.channels, set()
            for channel in moving:
                entry = self._channels.get(channel)
                if entry is None:
                    continue
                try:
                    node = self._node_of(channel)
                except ClusterError:  # no owner yet: retried here, after the backoff
                    node = link.node
                home = self._link(node)
                home.channels.add(channel)
                home.resubscribe = True
                home.wake.set()
                entry.link = home
                entry.ready = asyncio.Event()
                entry.owes_gap = True
