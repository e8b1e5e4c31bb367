"""``clb worker`` outlives a Redis outage: it waits, reconnects and runs jobs again.

Real processes throughout: a private redis-server that is killed (SIGKILL) and restarted on
the same port, and a ``python -m composition worker`` on the test database."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

import composition.worker  # noqa: F401  (registers the job handlers scheduled below)
from clb import jobs
from clb.config import Settings
from clb.db import commit
from clb.jobs import OutboxJob
from clb.services import Services
from tests.conftest import ROOT, ServerEnv, free_port

pytestmark = pytest.mark.slow

# A real job kind of the composed worker. For a conversation that does not exist it does
# nothing and is marked done: the outbox row shows that a worker ran it.
JOB_KIND = "chat.time_notice"


@dataclass
class PrivateRedis:
    """A redis-server of this test's own, on a fixed loopback port, without persistence."""

    port: int
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        from development.embedded import _redis_binary

        command = [
            _redis_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.data_dir),
        ]
        self.process = _popen(command)
        client = Redis(host="127.0.0.1", port=self.port)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}")
                with contextlib.suppress(RedisError, OSError):  # still starting
                    if await client.ping():
                        return
                await asyncio.sleep(0.05)
            raise RuntimeError("the private Redis did not start within 30 s")
        finally:
            await client.aclose()

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def _popen(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def logs(path: Path) -> str:
    return path.read_text(errors="replace")


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[PrivateRedis]:
    data_dir = tmp_path / "redis"
    data_dir.mkdir()
    redis = PrivateRedis(free_port(), data_dir)
    await redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@pytest.fixture
async def services_on(settings: Settings, private_redis: PrivateRedis) -> AsyncIterator[Services]:
    """This process's services on the test database and the private Redis."""
    services = await Services.start(settings.model_copy(update={"redis_url": private_redis.url}))
    try:
        yield services
    finally:
        await services.stop()


@contextlib.contextmanager
def worker_process(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "composition", "worker"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


async def schedule(services: Services) -> int:
    async with services.sessionmaker() as session:
        job = await jobs.schedule_job(
            session,
            services.jobs,
            JOB_KIND,
            {"conversation_id": str(uuid.uuid4()), "notice": "time_up"},
        )
        await commit(session)  # enqueues it in ARQ after the commit
    return job.id


async def wait_until_done(
    services: Services, job_id: int, worker: subprocess.Popen[bytes], log_path: Path
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the worker exited:\n" + logs(log_path)
        async with services.sessionmaker() as session:
            row = await session.get_one(OutboxJob, job_id)
            if row.done_at is not None:
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"job {job_id} not done within 60 s:\n" + logs(log_path))


async def test_the_worker_survives_a_redis_kill_and_runs_jobs_again(
    session_server_env: ServerEnv,
    private_redis: PrivateRedis,
    services_on: Services,
    tmp_path: Path,
) -> None:
    env = session_server_env(tmp_path, free_port())
    env["CLB_REDIS_URL"] = private_redis.url
    env["CLB_LOG_LEVEL"] = "INFO"
    log_path = tmp_path / "worker.log"
    with worker_process(env, log_path) as worker:
        # Before the outage: the worker is polling (a job runs).
        await wait_until_done(services_on, await schedule(services_on), worker, log_path)

        await private_redis.kill()
        deadline = time.monotonic() + 30
        while "worker lost Redis" not in logs(log_path):
            assert worker.poll() is None, "the worker exited with Redis:\n" + logs(log_path)
            assert time.monotonic() < deadline, "no warning:\n" + logs(log_path)
            await asyncio.sleep(0.1)
        await asyncio.sleep(3)  # several reconnection attempts against a closed port
        assert worker.poll() is None, "the worker exited:\n" + logs(log_path)

        await private_redis.start()  # same port, empty (no persistence)
        await wait_until_done(services_on, await schedule(services_on), worker, log_path)
        output = logs(log_path)
        assert "worker polling again" in output
        assert private_redis.url not in output

        # A clean shutdown still ends it promptly.
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait, 20) == 0, logs(log_path)


async def test_a_worker_waiting_for_redis_stops_promptly_on_sigterm(
    session_server_env: ServerEnv,
    private_redis: PrivateRedis,
    services_on: Services,
    tmp_path: Path,
) -> None:
    env = session_server_env(tmp_path, free_port())
    env["CLB_REDIS_URL"] = private_redis.url
    env["CLB_LOG_LEVEL"] = "INFO"
    log_path = tmp_path / "worker.log"
    with worker_process(env, log_path) as worker:
        await wait_until_done(services_on, await schedule(services_on), worker, log_path)
        await private_redis.kill()
        deadline = time.monotonic() + 30
        while "worker lost Redis" not in logs(log_path):
            assert worker.poll() is None, logs(log_path)
            assert time.monotonic() < deadline, "no warning:\n" + logs(log_path)
            await asyncio.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait, 20) == 0, logs(log_path)
