"""Fan-out, presence and rate limits on a real Redis Cluster (sharded pub/sub), and what
people see while a master dies and its replica takes over."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import Popen

import pytest
from pydantic import ValidationError
from redis.crc import key_slot
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Message
from chat.events import conversation_channel
from clb.bus import Bus, BusMessage, Subscription
from clb.config import Settings
from clb.ratelimit import Rate, RateLimiter
from clb.redis import Keys, create_cluster
from tests.chat.realtime.test_protocol import claimed_chat
from tests.conftest import ServerUrls
from tests.infra.redis_cluster import Cluster, running_cluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


def owner(cluster: Cluster, name: str) -> int:
    slot = key_slot(name.encode())
    for port, (low, high) in cluster.masters().items():
        if low <= slot <= high:
            return port
    raise LookupError(slot)


def one_channel_per_master(cluster: Cluster, prefix: str) -> dict[int, str]:
    channels: dict[int, str] = {}
    while len(channels) < 3:
        name = f"{prefix}:{uuid.uuid4()}"
        channels.setdefault(owner(cluster, name), name)
    return channels


async def next_message(subscription: Subscription, timeout: float = 30) -> BusMessage:
    return await asyncio.wait_for(subscription.get(), timeout)


async def test_each_channel_lives_on_its_own_shard_and_reaches_every_subscriber(
    cluster: Cluster,
) -> None:
    clients = [create_cluster(cluster.url) for _ in range(2)]
    buses = [Bus(client) for client in clients]
    for bus in buses:
        await bus.start()
    try:
        channels = one_channel_per_master(cluster, "t:ch")
        for port, channel in channels.items():
            async with buses[0].subscribe(channel) as subscription:
                await buses[1].publish(channel, {"n": port})
                assert (await next_message(subscription)).data == {"n": port}
                # Sharded: the subscription is on the owning shard, not broadcast.
                counted = cluster.ask(port, "pubsub", "shardnumsub", channel).split()
                assert counted[-1] == "1"
                assert cluster.ask(port, "pubsub", "numsub", channel).split()[-1] == "0"
    finally:
        for bus, client in zip(buses, clients, strict=True):
            await bus.stop()
            await client.aclose()


async def test_rate_limits_hold_across_shards(cluster: Cluster) -> None:
    redis = create_cluster(cluster.url)
    limiter = RateLimiter(redis, Keys(f"t{uuid.uuid4().hex[:6]}"))
    rate = Rate(3, 60)
    names = list(one_channel_per_master(cluster, "who").values())[:2]
    try:
        results = [await limiter.hit_all([(n, rate) for n in names]) for _ in range(4)]
        assert [r.allowed for r in results] == [True, True, True, False]
        assert (await limiter.hit(names[0], rate)).allowed is False
    finally:
        await redis.aclose()


async def test_a_master_killed_under_a_subscriber_costs_a_gap_then_delivery_resumes(
    tmp_path: Path,
) -> None:
    # A cluster of its own: this test kills one of its masters.
    with running_cluster(tmp_path) as own:
        client = create_cluster(own.url)
        bus = Bus(client)
        await bus.start()
        try:
            victim, channel = next(iter(one_channel_per_master(own, "t:fail").items()))
            async with bus.subscribe(channel) as subscription:
                await bus.publish(channel, {"n": 0})
                assert (await next_message(subscription)).data == {"n": 0}
                own.kill(victim)
                killed_at = time.monotonic()
                gap = await next_message(subscription, timeout=60)
                assert gap.gap  # the subscriber replays from the database here
                await bus.publish(channel, {"n": 1})
                assert (await next_message(subscription, timeout=60)).data == {"n": 1}
                print(f"fan-out back {time.monotonic() - killed_at:.1f} s after the kill")
            assert owner(own, channel) != victim  # its replica serves the slot now
        finally:
            await bus.stop()
            await client.aclose()


@pytest.fixture
def cluster_servers(
    cluster: Cluster,
    server_urls: ServerUrls,
    live_server_factory: Callable[..., tuple[str, Popen[bytes]]],
) -> tuple[str, str]:
    """Two ``clb serve`` on the cluster, with their job queue on the plain Redis."""
    settings = {
        "CLB_REDIS_URL": cluster.url,
        "CLB_REDIS_CLUSTER": "true",
        "CLB_JOBS_REDIS_URL": server_urls.redis_url,
    }
    return live_server_factory(**settings)[0], live_server_factory(**settings)[0]


async def test_a_chat_across_two_instances_on_the_cluster_survives_a_dying_master(
    cluster_servers: tuple[str, str], cluster: Cluster, redis_namespace: str, db: AsyncSession
) -> None:
    first, second = cluster_servers
    visitor, pupil, staff = await claimed_chat(db, first, second)
    await pupil.expect("message", sender="system")
    for n in range(3):
        cid = await pupil.say(f"bericht {n}")
        await pupil.expect("ack", client_msg_id=cid)
        assert (await staff.expect("message", sender="visitor"))["body"] == f"bericht {n}"
        await staff.say(f"antwoord {n}", visitor.conversation_id)
        assert (await pupil.expect("message", sender="counsellor"))["body"] == f"antwoord {n}"
    await staff.send({"type": "typing", "conversation_id": visitor.conversation_id, "active": True})
    assert (await pupil.expect("typing"))["sender"] == "counsellor"

    # The master that carries this chat's channel dies (this test runs last in the module).
    conversation = uuid.UUID(visitor.conversation_id)
    cluster.kill(owner(cluster, conversation_channel(Keys(redis_namespace), conversation)))
    killed_at = time.monotonic()
    during = [f"tijdens {n}" for n in range(5)]
    for body in during:  # stored and acknowledged: the record is PostgreSQL
        cid = await pupil.say(body)
        await pupil.expect("ack", client_msg_id=cid, timeout=30)
    acked = time.monotonic() - killed_at
    heard = [(await staff.expect("message", sender="visitor", timeout=60))["body"] for _ in during]
    assert heard == during  # late, but each once and in order
    delivered = time.monotonic() - killed_at
    await staff.say("Ik ben er nog.", visitor.conversation_id)
    assert (await pupil.expect("message", sender="counsellor", timeout=30))[
        "body"
    ] == "Ik ben er nog."
    print(f"master killed: 5 sends acked within {acked:.1f} s, delivered after {delivered:.1f} s")

    stored = select(func.count()).where(Message.conversation_id == conversation)
    assert await db.scalar(stored) == 1 + 6 + 5 + 1  # the join notice and every message
    for socket in (pupil, staff):
        await socket.close()
    cluster.wait_healthy()


def test_a_cluster_needs_a_plain_redis_for_the_job_queue() -> None:
    with pytest.raises(ValidationError, match="CLB_JOBS_REDIS_URL"):
        Settings(redis_cluster=True, redis_url="redis://127.0.0.1:7000/0")
    settings = Settings(
        redis_cluster=True, redis_url="redis://127.0.0.1:7000/0", jobs_redis_url="redis://q/0"
    )
    assert settings.jobs_redis_url == "redis://q/0"
