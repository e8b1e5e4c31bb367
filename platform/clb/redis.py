"""One asyncio Redis client per process, and the namespacing of keys and channels."""

from __future__ import annotations

from redis.asyncio import Redis

# No call waits for Redis longer than this: a frozen server or a silent network cut becomes
# an error the caller answers (an error frame, a 503), never a hang.
REDIS_TIMEOUT_SECONDS = 5.0


def create_redis(url: str) -> Redis:
    client: Redis = Redis.from_url(
        url,
        decode_responses=False,
        health_check_interval=30,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    return client


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
