"""Pub/sub fan-out across app instances, reference counting, slow subscribers, and gaps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from clb.bus import Bus, SlowSubscriber
from clb.config import Settings
from clb.services import Services


@pytest.fixture
async def two_instances(settings: Settings) -> AsyncIterator[tuple[Services, Services]]:
    """Two independent sets of process clients, as two app instances would have."""
    first = await Services.start(settings)
    second = await Services.start(settings)
    try:
        yield first, second
    finally:
        await first.stop()
        await second.stop()


async def test_event_published_on_one_instance_reaches_a_subscriber_on_another(
    two_instances: tuple[Services, Services],
) -> None:
    publisher, subscriber = two_instances
    channel = subscriber.keys.channel("conv", "42")
    async with subscriber.bus.subscribe(channel) as subscription:
        await publisher.bus.publish(channel, {"type": "message", "seq": 1})
        message = await asyncio.wait_for(subscription.get(), 5)
    assert message.data == {"type": "message", "seq": 1}
    assert not message.gap


async def test_local_subscribers_share_one_redis_subscription(
    two_instances: tuple[Services, Services], settings: Settings
) -> None:
    instance, publisher = two_instances
    channel = instance.keys.channel("conv", "7")
    redis = Redis.from_url(settings.redis_url or "")
    try:
        async with instance.bus.subscribe(channel) as one, instance.bus.subscribe(channel) as two:
            assert instance.bus.local_subscriber_count(channel) == 2
            assert (await redis.pubsub_numsub(channel))[0][1] == 1
            await publisher.bus.publish(channel, {"n": 1})
            assert (await asyncio.wait_for(one.get(), 5)).data == {"n": 1}
            assert (await asyncio.wait_for(two.get(), 5)).data == {"n": 1}
        await asyncio.sleep(0.1)
        assert instance.bus.local_subscriber_count(channel) == 0
        assert (await redis.pubsub_numsub(channel))[0][1] == 0
    finally:
        await redis.aclose()


async def test_slow_subscriber_is_cut_off_without_holding_up_the_others(
    settings: Settings, two_instances: tuple[Services, Services]
) -> None:
    _, publisher = two_instances
    redis = Redis.from_url(settings.redis_url or "")
    bus = Bus(redis, queue_size=3)
    await bus.start()
    channel = publisher.keys.channel("conv", "slow")
    try:
        async with bus.subscribe(channel) as slow, bus.subscribe(channel) as fast:
            for n in range(5):
                await publisher.bus.publish(channel, {"n": n})
                assert (await asyncio.wait_for(fast.get(), 5)).data == {"n": n}
            with pytest.raises(SlowSubscriber):
                await slow.get()
    finally:
        await bus.stop()
        await redis.aclose()


async def test_lost_connection_tells_subscribers_to_replay_and_then_resumes(
    settings: Settings, two_instances: tuple[Services, Services]
) -> None:
    instance, publisher = two_instances
    channel = instance.keys.channel("conv", "gap")
    admin = Redis.from_url(settings.redis_url or "")
    try:
        async with instance.bus.subscribe(channel) as subscription:
            # Cut every pub/sub connection, as a Redis restart or network blip would.
            await admin.client_kill_filter(_type="pubsub")
            gap = await asyncio.wait_for(subscription.get(), 10)
            assert gap.gap and gap.data is None
            for _ in range(100):  # the bus resubscribes on its own
                if (await admin.pubsub_numsub(channel))[0][1] == 1:
                    break
                await asyncio.sleep(0.05)
            await publisher.bus.publish(channel, {"after": "reconnect"})
            message = await asyncio.wait_for(subscription.get(), 5)
            assert message.data == {"after": "reconnect"}
    finally:
        await admin.aclose()


async def test_a_reader_survives_an_error_it_did_not_expect(
    settings: Settings, two_instances: tuple[Services, Services]
) -> None:
    # redis-py can raise more than RedisError (RuntimeError for a pub/sub without its
    # connection, RedisClusterException mid-failover). A reader that died on one would leave
    # its subscribers deaf for good; it must start over like after a lost connection.
    instance, publisher = two_instances
    channel = instance.keys.channel("conv", "odd-error")
    async with instance.bus.subscribe(channel) as subscription:
        [link] = instance.bus._links.values()
        real_get_message = link.pubsub.get_message
        calls = 0

        async def failing_once(timeout: float) -> object:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("pubsub connection not set")
            return await real_get_message(timeout=timeout)

        link.pubsub.get_message = failing_once  # type: ignore[method-assign, assignment]
        gap = await asyncio.wait_for(subscription.get(), 10)
        assert gap.gap  # started over: a new connection, and the subscriber replays
        assert link.pubsub.get_message is not failing_once  # type: ignore[comparison-overlap]
        await publisher.bus.publish(channel, {"after": "restart"})
        while (message := await asyncio.wait_for(subscription.get(), 5)).data is None:
            pass
        assert message.data == {"after": "restart"}
