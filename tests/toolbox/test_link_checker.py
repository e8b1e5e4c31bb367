"""The link checker against local HTTP servers: verdicts and reasons, the HEAD to GET
fallback, redirects, time-outs, per-host pacing, and which tools are (not) checked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clb.db import utcnow
from clb.services import Services
from composition import worker
from tests.conftest import PUBLIC_URL, free_port
from toolbox.catalogue.models import Tool, ToolStatus
from toolbox.link_checker import LINK_ERRORS, MAX_REDIRECTS, check_links

TIMEOUT = 1.0  # only /slow should ever reach it, also on a busy CI machine
INTERVAL = 0.02


@dataclass
class Hit:
    method: str
    path: str
    user_agent: str
    start: float
    end: float = 0.0


@dataclass
class LinkServer:
    """A tiny HTTP/1.1 server (one request per connection) that records every request."""

    hits: list[Hit] = field(default_factory=list)
    down: set[str] = field(default_factory=set)  # paths answering 503 for now
    on_request: Callable[[], Awaitable[None]] | None = None  # runs before each answer
    in_flight: int = 0
    max_in_flight: int = 0
    port: int = 0
    server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def paths(self, method: str | None = None) -> list[str]:
        return [hit.path for hit in self.hits if method in (None, hit.method)]

    def route(self, method: str, path: str) -> tuple[int, dict[str, str]] | None:
        """Status and headers, or None for "never answer"."""
        if path in self.down:
            return 503, {}
        match path:
            case "/ok" | "/draft" | "/archived" | "/flaky":
                return 200, {}
            case "/missing":
                return 404, {}
            case "/moved":
                return 301, {"Location": "/moved-again"}
            case "/moved-again":
                return 302, {"Location": self.url("/ok")}
            case "/loop":
                return 302, {"Location": "/loop"}
            case "/no-head":
                return (405, {"Allow": "GET"}) if method == "HEAD" else (200, {})
            case "/slow":
                return None
        return 404, {}

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hit: Hit | None = None
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, target, _version = head[0].split(" ", 2)
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in head[1:] if line)
            }
            hit = Hit(
                method, urlsplit(target).path, headers.get("user-agent", ""), time.monotonic()
            )
            self.hits.append(hit)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if self.on_request is not None:
                await self.on_request()
            answer = self.route(method, hit.path)
            if answer is None:
                await asyncio.wait_for(reader.read(), 10)  # until the client gives up
                return
            status, extra = answer
            body = b"" if method == "HEAD" else b"hallo"
            lines = [f"HTTP/1.1 {status} X", "Connection: close", "Content-Length: 5"]
            lines += [f"{name}: {value}" for name, value in extra.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass
        finally:
            if hit is not None:
                hit.end = time.monotonic()
                self.in_flight -= 1
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass


@pytest.fixture(autouse=True)
async def only_test_tools(db: AsyncSession) -> None:
    """The migration seeds a catalogue with real links: out of the way (the per-test
    cleanup puts it back), so nothing here ever leaves this machine."""
    await db.execute(delete(Tool))
    await db.commit()


@pytest.fixture
async def server() -> AsyncIterator[LinkServer]:
    link_server = LinkServer()
    await link_server.start()
    yield link_server
    await link_server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # No proxies from the environment: these servers are on loopback.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


async def add_tool(
    db: AsyncSession, slug: str, url: str | None, status: str = ToolStatus.published.value
) -> None:
    db.add(
        Tool(
            slug=slug, title=slug, summary="Een hulpmiddel", kind="website", url=url, status=status
        )
    )
    await db.commit()


async def verdicts(db: AsyncSession) -> dict[str, tuple[str | None, str | None]]:
    await db.rollback()  # see the checker's commits
    rows = await db.execute(select(Tool.slug, Tool.link_status, Tool.link_error))
    return {slug: (status, error) for slug, status, error in rows.all()}


async def checked_at(db: AsyncSession) -> dict[str, datetime | None]:
    await db.rollback()
    rows = await db.execute(select(Tool.slug, Tool.link_checked_at))
    return {slug: when for slug, when in rows.all()}


async def test_links_get_a_verdict_and_a_dutch_reason(
    services: Services, db: AsyncSession, server: LinkServer, http: httpx.AsyncClient
) -> None:
    for path in ("/ok", "/missing", "/moved", "/slow", "/no-head", "/loop"):
        await add_tool(db, path.strip("/"), server.url(path))
    await add_tool(db, "refused", f"http://127.0.0.1:{free_port()}/")
    await add_tool(db, "not-http", "mailto:info@example.org")
    await add_tool(db, "draft", server.url("/draft"), ToolStatus.draft.value)
    await add_tool(db, "in-review", server.url("/draft"), ToolStatus.in_review.value)
    await add_tool(db, "archived", server.url("/archived"), ToolStatus.archived.value)
    await add_tool(db, "no-url", None)
    now = utcnow()

    counts = await check_links(
        services, now=now, client=http, request_timeout=TIMEOUT, host_interval=INTERVAL
    )

    assert counts == {"ok": 3, "failing": 5}
    ok = ("ok", None)
    assert await verdicts(db) == {
        "ok": ok,
        "moved": ok,
        "no-head": ok,
        "missing": ("failing", "HTTP 404"),
        "slow": ("failing", "time-out"),
        "loop": ("failing", "te veel doorverwijzingen"),
        "refused": ("failing", "verbinding mislukt"),
        "not-http": ("failing", "ongeldig adres"),
        "draft": (None, None),
        "in-review": (None, None),
        "archived": (None, None),
        "no-url": (None, None),
    }
    assert set(LINK_ERRORS.values()) == {
        "time-out",
        "verbinding mislukt",
        "te veel doorverwijzingen",
        "ongeldig adres",
    }
    when = await checked_at(db)
    assert when["ok"] == now and when["draft"] is None and when["archived"] is None
    # HEAD first; GET only where HEAD was refused; a 404 is an answer, not a reason to GET.
    assert server.paths("GET") == ["/no-head"]
    assert server.paths().count("/no-head") == 2
    assert server.paths().count("/missing") == 1
    assert server.paths().count("/loop") == MAX_REDIRECTS + 1
    assert {"/moved", "/moved-again"} <= set(server.paths("HEAD"))
    assert not {"/draft", "/archived"} & set(server.paths())
    assert {hit.user_agent for hit in server.hits} == {f"CLB-platform linkchecker (+{PUBLIC_URL}/)"}


async def test_a_link_is_broken_after_two_failed_checks_and_not_rechecked_too_soon(
    services: Services, db: AsyncSession, server: LinkServer, http: httpx.AsyncClient
) -> None:
    for path in ("/ok", "/missing", "/flaky"):
        await add_tool(db, path.strip("/"), server.url(path))
    server.down.add("/flaky")
    now = utcnow()

    async def run(at: datetime) -> dict[str, int]:
        return await check_links(
            services, now=at, client=http, request_timeout=TIMEOUT, host_interval=INTERVAL
        )

    assert await run(now) == {"ok": 1, "failing": 2}
    assert (await verdicts(db))["flaky"] == ("failing", "HTTP 503")

    # Within the week nothing is due, and a failing link waits a day for its second check.
    assert await run(now + timedelta(hours=20)) == {}
    assert len(server.hits) == 3

    server.down.clear()
    assert await run(now + timedelta(days=2)) == {"broken": 1, "ok": 1}
    assert await verdicts(db) == {
        "ok": ("ok", None),
        "missing": ("broken", "HTTP 404"),
        "flaky": ("ok", None),  # recovered: no flag, no reason left behind
    }
    assert sorted(server.paths()[3:]) == ["/flaky", "/missing"]  # the ok link was not due

    # A week after their last check the others are due again; broken stays broken.
    assert await run(now + timedelta(days=8)) == {"ok": 1}
    assert server.paths()[5:] == ["/ok"]
    assert await run(now + timedelta(days=10)) == {"broken": 1, "ok": 1}
    assert (await verdicts(db))["missing"] == ("broken", "HTTP 404")


async def test_one_request_at_a_time_per_host_paced_while_hosts_run_in_parallel(
    services: Services, db: AsyncSession, server: LinkServer, http: httpx.AsyncClient
) -> None:
    other = LinkServer()
    await other.start()
    try:
        for number, host in enumerate((server, other)):
            for path in ("/ok", "/moved", "/no-head", "/missing", "/slow"):
                await add_tool(db, f"{number}{path.replace('/', '-')}", host.url(path))
        interval = 0.15
        counts = await check_links(
            services, client=http, request_timeout=TIMEOUT, host_interval=interval, max_hosts=2
        )
        expected: dict[str, tuple[str, str | None]] = {
            "ok": ("ok", None),
            "moved": ("ok", None),
            "no-head": ("ok", None),
        }
        expected |= {"missing": ("failing", "HTTP 404"), "slow": ("failing", "time-out")}
        assert await verdicts(db) == {
            f"{number}-{path}": verdict for number in (0, 1) for path, verdict in expected.items()
        }
        assert counts == {"ok": 6, "failing": 4}
        for host in (server, other):
            assert len(host.hits) == 8  # /moved takes three hops, /no-head two requests
            # Also after a time-out: the checker hangs up before its next request.
            assert host.max_in_flight == 1
            hits = sorted(host.hits, key=lambda hit: hit.start)
            gaps = [after.start - before.end for before, after in zip(hits, hits[1:], strict=False)]
            assert min(gaps) >= interval * 0.9, gaps
        # The two hosts were checked side by side, not one after the other.
        assert server.hits[0].start < other.hits[-1].end
        assert other.hits[0].start < server.hits[-1].end
    finally:
        await other.stop()


async def test_a_batch_takes_the_longest_unchecked_links_first(
    services: Services, db: AsyncSession, server: LinkServer, http: httpx.AsyncClient
) -> None:
    for slug in ("a", "b", "c"):
        await add_tool(db, slug, server.url("/ok"))
    now = utcnow()
    first = await check_links(
        services, now=now, client=http, batch=2, request_timeout=TIMEOUT, host_interval=INTERVAL
    )
    assert first == {"ok": 2}
    assert await check_links(
        services, now=now, client=http, batch=2, request_timeout=TIMEOUT, host_interval=INTERVAL
    ) == {"ok": 1}
    assert all(when == now for when in (await checked_at(db)).values())


async def test_a_url_changed_during_the_check_keeps_no_verdict_for_the_old_one(
    services: Services, db: AsyncSession, server: LinkServer, http: httpx.AsyncClient
) -> None:
    await add_tool(db, "edited", server.url("/missing"))

    async def editor_changes_the_url() -> None:
        async with services.sessionmaker() as session:
            await session.execute(update(Tool).values(url=server.url("/ok")))
            await session.commit()

    server.on_request = editor_changes_the_url
    assert await check_links(services, client=http, request_timeout=TIMEOUT) == {}
    assert await verdicts(db) == {"edited": (None, None)}  # the new url is still due


async def test_the_worker_runs_the_checker_nightly(services: Services) -> None:
    names = {job.name for job in worker.cron_jobs(services.keys.namespace)}
    assert f"cron:{services.keys.namespace}:check_toolbox_links" in names
    assert await worker.check_toolbox_links({"services": services}) == {}
