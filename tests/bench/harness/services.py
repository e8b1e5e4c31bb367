"""A run's services: its scratch database and Redis namespace, its servers, and cleanup."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection

from composition.migrate import migrate
from tests.bench.harness.load import Addresses
from tests.bench.harness.report import log
from tests.bench.harness.servers import Server, start_server, stop_process, wait_ready
from tests.conftest import ServerUrls, free_port, server_env


def with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


def plain_dsn(url: str) -> str:
    """``postgresql://…`` for asyncpg, from a URL with any driver (``postgresql+asyncpg``)."""
    return "postgresql://" + url.split("://", 1)[1]


@dataclass
class Resources:
    """Everything the run creates, so that cleanup can undo it whatever happened."""

    admin_dsn: str
    redis_url: str
    work_dir: Path  # the servers' data and logs, kept after the run
    namespace: str = field(default_factory=lambda: f"bench{secrets.token_hex(4)}")
    database: str = field(default_factory=lambda: f"bench_{secrets.token_hex(5)}")
    database_created: bool = False
    database_dropped: bool = False
    redis_cleaned: bool = False
    servers: list[Server] = field(default_factory=list)
    sockets: set[ClientConnection] = field(default_factory=set)
    addresses: Addresses = field(default_factory=Addresses)

    @classmethod
    def for_options(cls, database_url: str, redis_url: str, work_prefix: str) -> Resources:
        """From ``--database-url`` (any driver) and ``--redis-url``; the servers' logs go to
        a new directory ``/tmp/<work_prefix>…``."""
        return cls(
            admin_dsn=plain_dsn(database_url),
            redis_url=redis_url,
            work_dir=Path(tempfile.mkdtemp(prefix=work_prefix)),
        )

    @property
    def database_url(self) -> str:
        return (
            "postgresql+asyncpg://"
            + with_database(self.admin_dsn, self.database).split("://", 1)[1]
        )

    async def connect(self) -> asyncpg.Connection:
        """A plain asyncpg connection to the scratch database (close it yourself)."""
        return await asyncpg.connect(plain_dsn(self.database_url))

    async def create_database(self) -> None:
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{self.database}"')
            self.database_created = True
        finally:
            await admin.close()
        await migrate(self.database_url)

    def launch_server(
        self, index: int, extra_env: dict[str, str], profile_out: Path | None = None
    ) -> Server:
        port = free_port()
        data_dir = self.work_dir / f"server{index}"
        data_dir.mkdir()
        env = server_env(
            self.database_url,
            ServerUrls(self.admin_dsn, self.redis_url),
            self.namespace,
            data_dir,
            port,
        )
        env.update(extra_env)
        if profile_out is not None:
            env["BENCH_PROFILE_OUT"] = str(profile_out)
        return start_server(index, port, env, self.work_dir)

    async def start_servers(
        self, count: int, extra_env: dict[str, str], profile_out: Path | None = None
    ) -> None:
        """``count`` servers, server 0 under cProfile when ``profile_out`` is given."""
        for index in range(count):
            self.servers.append(
                self.launch_server(index, extra_env, profile_out if index == 0 else None)
            )
        for server in self.servers:
            await wait_ready(server, timeout=60)

    def check_servers(self) -> None:
        for server in self.servers:
            if not server.alive():
                raise RuntimeError(f"server {server.index} died; see {server.log_path}")

    async def stop_servers(self) -> None:
        await asyncio.gather(
            *(asyncio.to_thread(stop_process, s.process) for s in self.servers),
            return_exceptions=True,
        )

    def abort_sockets(self) -> None:
        for socket in list(self.sockets):
            with contextlib.suppress(Exception):
                socket.transport.abort()
        self.sockets.clear()

    async def drop_database(self) -> None:
        if not self.database_created or self.database_dropped:
            return
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self.database_dropped = True
        finally:
            await admin.close()

    async def clean_redis(self) -> None:
        if self.redis_cleaned:
            return
        client = Redis.from_url(self.redis_url)
        try:
            for pattern in (f"{self.namespace}:*", f"arq:*:{self.namespace}:*"):
                keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
                for start in range(0, len(keys), 1000):
                    await client.delete(*keys[start : start + 1000])
            self.redis_cleaned = True
        finally:
            await client.aclose()

    async def cleanup(self) -> None:
        """Idempotent; each step on its own so one failure does not skip the others."""
        self.abort_sockets()
        for step in (self.stop_servers, self.drop_database, self.clean_redis):
            try:
                await asyncio.wait_for(step(), 60)
            except Exception as error:  # report and go on cleaning
                log(f"cleanup: {step.__name__} failed: {error!r}")

    def cleanup_sync(self) -> None:
        """Last resort after the event loop is gone (second Ctrl+C, crash)."""
        for server in self.servers:
            with contextlib.suppress(Exception):
                stop_process(server.process, grace=5)
        if self.database_created and not self.database_dropped:
            try:
                asyncio.run(self.drop_database())
            except Exception:
                log(f"could not drop database {self.database}: drop it by hand")
        if not self.redis_cleaned:
            with contextlib.suppress(Exception):
                asyncio.run(self.clean_redis())
