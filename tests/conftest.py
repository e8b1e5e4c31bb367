"""Test fixtures on real PostgreSQL and Redis.

Servers: ``CLB_TEST_DATABASE_URL`` / ``CLB_TEST_REDIS_URL`` when set (CI uses the machine's
own), otherwise embedded ones under ``var/test-services``. Each run gets a fresh database,
migrated with the real migrations, and its own Redis namespace; every test starts from
empty tables and keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from clb.auth.models import StaffAccount
from clb.auth.passwords import hash_password
from clb.config import Settings
from clb.db import Base, create_engine
from clb.org.models import Centre, School, SchoolLevel
from clb.services import Services
from composition.app import create_app
from composition.migrate import migrate

ROOT = Path(__file__).resolve().parents[1]
PUBLIC_URL = "http://127.0.0.1:8000"
TEST_PASSWORD = "een-lang-testwachtwoord"
# One argon2id hash for all test accounts: hashing costs ~100 ms each.
TEST_PASSWORD_HASH = hash_password(TEST_PASSWORD)


@dataclass(frozen=True)
class ServerUrls:
    admin_database_url: str  # asyncpg DSN for creating/dropping the per-run database
    redis_url: str


def _asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


@pytest.fixture(scope="session")
def server_urls() -> Iterator[ServerUrls]:
    database_url = os.environ.get("CLB_TEST_DATABASE_URL")
    redis_url = os.environ.get("CLB_TEST_REDIS_URL")
    if database_url and redis_url:
        yield ServerUrls(_asyncpg_dsn(database_url), redis_url)
        return
    from development.embedded import start_embedded

    embedded = start_embedded(ROOT / "var" / "test-services")
    try:
        yield ServerUrls(
            _asyncpg_dsn(database_url or embedded.database_url), redis_url or embedded.redis_url
        )
    finally:
        embedded.stop()


def _with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
async def database_url(server_urls: ServerUrls) -> AsyncIterator[str]:
    """A fresh database for this test run, brought up to date by the real migrations."""
    name = f"clb_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_urls.admin_database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = (
            "postgresql+asyncpg://"
            + _with_database(server_urls.admin_database_url, name).split("://", 1)[1]
        )
        await migrate(url)
        await _keep_seed_rows(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


SEED_SCHEMA = "test_seed"


async def _keep_seed_rows(url: str) -> None:
    """Copy the rows migrations put in (e.g. default opening hours) aside, so the per-test
    cleanup can put them back after emptying every table."""
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text(f"CREATE SCHEMA {SEED_SCHEMA}"))
        for table in Base.metadata.sorted_tables:
            exists = f'SELECT EXISTS (SELECT 1 FROM "{table.name}")'  # noqa: S608 - our tables
            if await connection.scalar(text(exists)):
                await connection.execute(
                    text(f'CREATE TABLE {SEED_SCHEMA}."{table.name}" AS TABLE "{table.name}"')
                )
    await engine.dispose()


async def _reset_tables(url: str) -> None:
    """Empty every table and put the seed rows back. A live test server may still be
    writing (a chat closing); when PostgreSQL picks the TRUNCATE as a deadlock's victim, it
    goes again."""
    engine = create_engine(url)
    try:
        for attempt in range(5):
            try:
                async with engine.begin() as connection:
                    await _reset(connection)
                return
            except DBAPIError as error:
                if "deadlock detected" not in str(error.orig) or attempt == 4:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))
    finally:
        await engine.dispose()


async def _reset(connection: AsyncConnection) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    seeded = await connection.scalars(
        text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
        {"s": SEED_SCHEMA},
    )
    kept = set(seeded.all())
    # Parents before children: the catalogue's own order is unspecified.
    for name in [t.name for t in Base.metadata.sorted_tables if t.name in kept]:
        columns = ", ".join(
            f'"{column}"'
            for column in await connection.scalars(
                text(
                    "SELECT column_name FROM information_schema.columns WHERE "
                    "table_schema = 'public' AND table_name = :t AND is_generated = 'NEVER'"
                ),
                {"t": name},
            )
        )
        restore = f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM {SEED_SCHEMA}."{name}"'  # noqa: S608, E501
        await connection.execute(text(restore))
        # Restored rows keep their ids: move each id sequence past them.
        sequences = await connection.execute(
            text(
                "SELECT column_name, pg_get_serial_sequence(:q, column_name) "
                "FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = :t "
                "AND (is_identity = 'YES' OR column_default LIKE 'nextval%')"
            ),
            {"q": f'"{name}"', "t": name},
        )
        for column, sequence in sequences.all():
            highest = f'SELECT max("{column}") FROM "{name}"'  # noqa: S608 - our table
            await connection.execute(text(f"SELECT setval(:s, ({highest}))"), {"s": sequence})


@pytest.fixture(scope="session")
def redis_namespace() -> str:
    return f"t{secrets.token_hex(4)}"


@pytest.fixture
def settings(
    database_url: str, server_urls: ServerUrls, redis_namespace: str, tmp_path: Path
) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        redis_url=server_urls.redis_url,
        redis_namespace=redis_namespace,
        data_dir=tmp_path,
        public_url=PUBLIC_URL,
        secret_key="test-secret-" + "x" * 40,
        migrate_on_start=False,
    )


@pytest.fixture(autouse=True)
async def _clean_state(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Empty every table and this run's Redis keys after each test that touched them."""
    yield
    if "database_url" in request.fixturenames:
        await _reset_tables(request.getfixturevalue("database_url"))
    if "redis_namespace" in request.fixturenames:
        urls: ServerUrls = request.getfixturevalue("server_urls")
        namespace = request.getfixturevalue("redis_namespace")
        client = Redis.from_url(urls.redis_url)
        keys = [
            key
            for pattern in (f"{namespace}:*", f"arq:*:{namespace}:*")
            async for key in client.scan_iter(match=pattern, count=1000)
        ]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def services(app: FastAPI) -> Services:
    result: Services = app.state.services
    return result


@pytest.fixture
async def mailbox_app(settings: Settings, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """The app with a development mailbox folder (its pages at /dev/postvak)."""
    application = create_app(settings.model_copy(update={"dev_mailbox_dir": tmp_path / "postvak"}))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        yield http


@pytest.fixture
async def db(services: Services) -> AsyncIterator[AsyncSession]:
    """A session for arranging data and checking results; commit explicitly."""
    async with services.sessionmaker() as session:
        yield session


async def make_centre(
    session: AsyncSession,
    slug: str = "clb-test",
    *,
    read_along: bool = False,
    second_factor: bool = False,
) -> Centre:
    """``read_along``: its coordinators may read along with its counsellors' chats.
    ``second_factor``: its staff must use one (the product's default; tests of other
    features log in with a password alone)."""
    centre = Centre(
        slug=slug,
        name=f"CLB {slug}",
        phone=None,
        email=None,
        website=None,
        chat_read_along=read_along,
        second_factor_required=second_factor,
    )
    session.add(centre)
    await session.flush()
    session.add(
        School(
            centre_id=centre.id,
            name="Testschool",
            municipality="Gent",
            postcode="9000",
            level=SchoolLevel.secundair,
        )
    )
    await session.flush()
    return centre


async def make_staff(
    session: AsyncSession,
    *,
    email: str = "an@clb.example",
    roles: tuple[str, ...] = ("counsellor",),
    centre: Centre | None = None,
    active: bool = True,
) -> StaffAccount:
    centre = centre or await make_centre(session, slug=f"clb-{secrets.token_hex(3)}")
    account = StaffAccount(
        email=email,
        full_name="An Peeters",
        display_name="An",
        centre_id=centre.id,
        roles=list(roles),
        password_hash=TEST_PASSWORD_HASH,
        is_active=active,
    )
    session.add(account)
    await session.commit()
    return account


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serving_smtp(handler: Any, port: int) -> Iterator[None]:
    """An aiosmtpd server on 127.0.0.1:``port`` with ``handler``, for the block: for tests
    that need a real SMTP server to talk to."""
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield
    finally:
        controller.stop()


def wait_until_ready(base_url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {base_url} not ready within {timeout} s")


def server_env(
    database_url: str, urls: ServerUrls, namespace: str, data_dir: Path, port: int
) -> dict[str, str]:
    return {
        **os.environ,
        "CLB_ENV": "test",
        "CLB_DATABASE_URL": database_url,
        "CLB_REDIS_URL": urls.redis_url,
        "CLB_REDIS_NAMESPACE": namespace,
        "CLB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CLB_ALLOWED_ORIGINS": "[]",
        "CLB_SECRET_KEY": "test-secret-" + "x" * 40,
        "CLB_MIGRATE_ON_START": "false",
        "CLB_DATA_DIR": str(data_dir),
        "CLB_LOG_LEVEL": "WARNING",
        # Browser and protocol tests run at any hour; opening hours have their own tests.
        "CLB_CHAT_ALWAYS_OPEN": "true",
    }


ServerEnv = Callable[[Path, int], dict[str, str]]


@pytest.fixture(scope="session")
def session_server_env(
    database_url: str, server_urls: ServerUrls, redis_namespace: str
) -> ServerEnv:
    """:func:`server_env` bound to this run's database, Redis and namespace: the environment
    of a server or worker process with the given data folder and port."""

    def env(data_dir: Path, port: int) -> dict[str, str]:
        return server_env(database_url, server_urls, redis_namespace, data_dir, port)

    return env


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """A real ``clb serve`` process; the caller stops it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "composition", "serve", "--port", str(port)], env=env, cwd=ROOT
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", process, timeout=30)
    except BaseException:
        process.kill()
        raise
    return process


@pytest.fixture(scope="session")
def live_server_factory(
    session_server_env: ServerEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., tuple[str, subprocess.Popen[bytes]]]]:
    """Starts ``clb serve`` processes on the test database and Redis namespace; all of them
    accept WebSockets from the first server's origin, so one page can use either."""
    processes: list[subprocess.Popen[bytes]] = []
    first_origin: list[str] = []

    def start(**settings: str) -> tuple[str, subprocess.Popen[bytes]]:
        """``settings``: extra environment, e.g. ``CLB_CHAT_PRESENCE_TTL_SECONDS="4"``;
        ``{port}`` in a value is the server's port."""
        port = free_port()
        extra = {name: value.replace("{port}", str(port)) for name, value in settings.items()}
        env = {**session_server_env(tmp_path_factory.mktemp("server"), port), **extra}
        if first_origin:
            env["CLB_ALLOWED_ORIGINS"] = f'["{first_origin[0]}"]'
        else:
            first_origin.append(f"http://127.0.0.1:{port}")
        process = start_server(env, port)
        processes.append(process)
        return f"http://127.0.0.1:{port}", process

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        # A server whose Redis a test stopped may drain for the whole shutdown grace
        # (CLB_SHUTDOWN_GRACE_SECONDS, 25 s): shutdown itself is tested elsewhere
        # (tests/composition/test_graceful_shutdown.py), so here it only must end.
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server(live_server_factory: Callable[..., tuple[str, subprocess.Popen[bytes]]]) -> str:
    """A real ``clb serve`` process on the test database; its base URL."""
    return live_server_factory()[0]


@pytest.fixture(scope="session")
def live_server_b(
    live_server: str, live_server_factory: Callable[..., tuple[str, subprocess.Popen[bytes]]]
) -> str:
    """A second instance sharing PostgreSQL and Redis with ``live_server``."""
    return live_server_factory()[0]
