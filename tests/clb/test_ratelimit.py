from __future__ import annotations

import pytest
from redis.asyncio import Redis

from clb.errors import RateLimited
from clb.ratelimit import Rate, RateLimiter
from clb.redis import Keys
from clb.services import Services
from tests.conftest import free_port


async def test_allows_the_limit_then_says_how_long_to_wait(services: Services) -> None:
    rate = Rate(3, 60)
    results = [await services.limiter.hit("test:a", rate) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert 0 < results[-1].retry_after <= 20
    with pytest.raises(RateLimited) as caught:
        results[-1].raise_if_denied()
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == str(caught.value.retry_after)


async def test_peek_does_not_count_and_reset_clears(services: Services) -> None:
    rate = Rate(1, 60)
    assert (await services.limiter.peek("test:b", rate)).allowed
    assert (await services.limiter.hit("test:b", rate)).allowed
    assert not (await services.limiter.peek("test:b", rate)).allowed
    await services.limiter.reset("test:b")
    assert (await services.limiter.hit("test:b", rate)).allowed


async def test_keys_are_independent(services: Services) -> None:
    rate = Rate(1, 60)
    assert (await services.limiter.hit("test:c", rate)).allowed
    assert (await services.limiter.hit("test:d", rate)).allowed


async def test_with_redis_away_limits_hold_in_this_process() -> None:
    dead = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    limiter = RateLimiter(dead, Keys("t"))
    try:
        rate = Rate(3, 60)
        results = [await limiter.hit("flood", rate) for _ in range(4)]
        assert [r.allowed for r in results] == [True, True, True, False]
        assert 0 < results[-1].retry_after <= 20
        assert (await limiter.hit("someone-else", rate)).allowed
    finally:
        await dead.aclose()
