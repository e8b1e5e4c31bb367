"""The Redis clients one process holds, and the namespacing of keys and channels.

One Redis server, or a Redis Cluster (``CLB_REDIS_CLUSTER``): then ``RedisClient`` is a
:class:`RedisCluster`, which routes each command by its key's slot. The platform gives it no
command that touches two keys in different slots, and fan-out uses sharded pub/sub
(:class:`ShardedPubSub`), so a channel lives on the shard that owns its slot instead of
being copied to every node. ARQ's job queue needs one plain Redis (``CLB_JOBS_REDIS_URL``).
"""

from __future__ import annotations

import contextlib
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ClusterError, RedisClusterException, RedisError
from redis.typing import ChannelT

# No call waits for Redis longer than this: a frozen server or a silent network cut becomes
# an error the caller answers (an error frame, a 503), never a hang.
REDIS_TIMEOUT_SECONDS = 5.0

RedisClient = Redis | RedisCluster

_OPTIONS: dict[str, Any] = {
    "decode_responses": False,
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    "socket_timeout": REDIS_TIMEOUT_SECONDS,
}


def create_redis(url: str) -> Redis:
    client: Redis = Redis.from_url(url, health_check_interval=30, **_OPTIONS)
    return client


def create_node_redis(host: str, port: int) -> Redis:
    """A plain client for one cluster node: sharded pub/sub talks to the shard itself."""
    return Redis(host=host, port=port, health_check_interval=30, **_OPTIONS)


def create_cluster(url: str) -> RedisCluster:
    """A cluster client from the address of any one node; it learns the others. During a
    failover a command is retried a few times on the new topology before it fails."""
    client: RedisCluster = RedisCluster.from_url(url, cluster_error_retry_attempts=3, **_OPTIONS)
    return client


def shard_of(cluster: RedisCluster, channel: str) -> str:
    """The "host:port" of the shard that owns ``channel``'s slot, as the client last saw the
    topology. While a failover leaves the slot without owner: ClusterError, a RedisError
    (redis-py raises RedisClusterException, which callers would not expect)."""
    try:
        node = cluster.get_node_from_key(channel)
    except RedisClusterException:
        node = None
    if node is None:
        raise ClusterError(f"no shard serves {channel}")
    return str(node.name)


async def close_quietly(pubsub: PubSub) -> None:
    """Close a pub/sub connection that may already be broken."""
    with contextlib.suppress(RedisError, OSError):
        await pubsub.aclose()  # type: ignore[no-untyped-call]


class ShardedPubSub(PubSub):
    """redis-py's asyncio PubSub speaks SUBSCRIBE only; this one speaks Redis 7's sharded
    SSUBSCRIBE to one cluster node, which delivers 'smessage's. One command per channel:
    a multi-channel SSUBSCRIBE must keep to one slot."""

    PUBLISH_MESSAGE_TYPES = ("message", "pmessage", "smessage")  # type: ignore[assignment]
    UNSUBSCRIBE_MESSAGE_TYPES = ("unsubscribe", "punsubscribe", "sunsubscribe")  # type: ignore[assignment]

    async def subscribe(self, *args: ChannelT, **kwargs: Any) -> None:
        channels = [*args, *kwargs]
        for channel in channels:
            await self.execute_command("SSUBSCRIBE", channel)
        new = self._normalize_keys(dict.fromkeys(channels))
        self.channels.update(new)
        self.pending_unsubscribe_channels.difference_update(new)

    async def unsubscribe(self, *args: ChannelT) -> None:
        self.pending_unsubscribe_channels.update(self._normalize_keys(dict.fromkeys(args)))
        for channel in args:
            await self.execute_command("SUNSUBSCRIBE", channel)


class Keys:
    """Every Redis key and channel name is built here, under one namespace."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))

    def channel(self, *parts: str) -> str:
        return self.key("ch", *parts)

    @property
    def job_queue(self) -> str:
        return self.key("arq", "queue")
