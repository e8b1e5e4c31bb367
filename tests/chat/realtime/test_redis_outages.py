"""The chat under Redis faults (issue 15), on real processes: two ``clb serve`` on a private
redis-server that is frozen (SIGSTOP) or killed and restarted.

- Frozen for 10 s: every send gets its ack (or an error frame) within 2 s, since nothing on
  the send path waits for Redis, and every acked message reaches the other side once
  Redis is back.
- Killed and restarted: waiting pupils on both instances are told their place again."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.chat.realtime.test_protocol import counsellor
from tests.chat.support import Visitor
from tests.composition.test_worker_resilience import PrivateRedis, private_redis  # noqa: F401
from tests.conftest import ServerEnv, free_port, start_server

pytestmark = pytest.mark.slow


@pytest.fixture
def two_servers(
    private_redis: PrivateRedis,  # noqa: F811 - the fixture imported above
    session_server_env: ServerEnv,
    tmp_path: Path,
) -> Iterator[list[str]]:
    """Two instances on the test database and the private Redis."""
    processes: list[subprocess.Popen[bytes]] = []
    bases = []
    try:
        for index in range(2):
            port = free_port()
            data = tmp_path / f"server{index}"
            data.mkdir()
            env = session_server_env(data, port)
            env["CLB_REDIS_URL"] = private_redis.url
            env["CLB_CHAT_PRESENCE_TTL_SECONDS"] = "4"
            env["CLB_CHAT_PRESENCE_GRACE_SECONDS"] = "1"
            processes.append(start_server(env, port))
            bases.append(f"http://127.0.0.1:{port}")
        # Each page may open sockets on the other instance.
        yield bases
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)


@pytest.fixture
async def frozen(private_redis: PrivateRedis) -> AsyncIterator[PrivateRedis]:  # noqa: F811
    yield private_redis
    assert private_redis.process is not None
    private_redis.process.send_signal(signal.SIGCONT)  # never leave it stopped


async def test_a_frozen_redis_holds_up_no_send_and_loses_nothing(
    two_servers: list[str], frozen: PrivateRedis, db: AsyncSession
) -> None:
    visitor = await Visitor.join(two_servers[0])
    pupil = await visitor.connect()
    staff = await counsellor(db, two_servers[1])
    await staff.send({"type": "claim", "conversation_id": visitor.conversation_id})
    await staff.expect("claimed")
    await pupil.expect("message", sender="system")  # the joined notice
    assert frozen.process is not None

    frozen.process.send_signal(signal.SIGSTOP)
    frozen_at = time.monotonic()
    acked: list[int] = []
    while time.monotonic() - frozen_at < 10:
        sent = await pupil.say(f"tijdens de storing {len(acked)}")
        started = time.monotonic()
        answer = await pupil.recv(timeout=2)  # an ack or an error frame, within 2 s
        while answer["type"] not in ("ack", "error"):
            answer = await pupil.recv(timeout=2 - (time.monotonic() - started))
        assert time.monotonic() - started < 2
        if answer["type"] == "ack":
            assert answer["client_msg_id"] == sent
            acked.append(answer["seq"])
        await asyncio.sleep(0.5)
    frozen.process.send_signal(signal.SIGCONT)

    assert len(acked) >= 10
    seen: set[int] = set()
    deadline = time.monotonic() + 60
    while not set(acked) <= seen:
        assert time.monotonic() < deadline, f"missing {sorted(set(acked) - seen)}"
        message = await staff.expect("message", timeout=30, sender="visitor")
        seen.add(message["seq"])
    for socket in (pupil, staff):
        await socket.close()


async def test_after_a_redis_restart_both_instances_tell_places_again(
    two_servers: list[str],
    private_redis: PrivateRedis,  # noqa: F811
) -> None:
    first, second = await Visitor.join(two_servers[0]), await Visitor.join(two_servers[1])
    first_socket = await first.connect()
    await first_socket.expect("queue", timeout=30, position=1)
    second_socket = await second.connect()
    await second_socket.expect("queue", timeout=30, position=2)

    await private_redis.kill()
    await private_redis.start()  # empty: presence and rate limits start over
    for socket in (first_socket, second_socket):
        socket.pending.clear()  # only what is told from now on counts
    # Both instances renew their visitors and tell them their places again.
    await first_socket.expect("queue", timeout=60, position=1)
    await second_socket.expect("queue", timeout=60, position=2)
    await first_socket.close()
    await second_socket.expect("queue", timeout=60, position=1)
    await second_socket.close()
