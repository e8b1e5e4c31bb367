"""The link checker: a nightly look at every published tool's external link.

Polite by design: a ``User-Agent`` that names the platform, ``HEAD`` first (``GET`` only
when a server refuses or botches ``HEAD``, and then without reading the body), a short
time-out per request, at most :data:`MAX_REDIRECTS` redirects followed one hop at a time,
at most one request in flight per host with at least ``host_interval`` seconds between the
end of one request and the start of the next one to the same host (every hop and every
fallback counts), and only a few hosts at once.

A verdict goes in ``Tool.link_status``, with a short Dutch reason in ``Tool.link_error``
(editors read it; the English is in the catalogue):

- ``ok``: the link answers (after redirects) with a status below 400; the reason is cleared.
- ``failing``: the first failed check. Not shown as broken yet: sites have bad nights.
  Failing links are checked again after :data:`RECHECK_FAILING` instead of a week.
- ``broken``: failed again on the next check (two in a row): editors should act.

A link is checked when it never was or its last check is :data:`CHECK_INTERVAL` old. A
change to a tool's ``url`` during a run keeps the new url unchecked (the verdict is only
written while the url is still the one checked). Logs name the host and the outcome, never
the full url.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx

from clb.db import transaction, utcnow
from toolbox.catalogue import repository
from toolbox.catalogue.models import LinkStatus

if TYPE_CHECKING:
    from clb.services import Services

log = logging.getLogger(__name__)

CHECK_INTERVAL = timedelta(days=7)
RECHECK_FAILING = timedelta(days=1)
DEFAULT_BATCH = 300
DEFAULT_TIMEOUT = 10.0  # seconds per request
DEFAULT_HOST_INTERVAL = 1.0  # seconds between two requests to one host
MAX_PARALLEL_HOSTS = 4
MAX_REDIRECTS = 5
# HEAD answers that say "try GET" rather than "this link is gone".
HEAD_REFUSED = frozenset({403, 405, 501})
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def _(message: str) -> str:
    """Marks a Dutch message for the catalogue; it is stored as is and translated on display
    (a status code reason such as ``HTTP 404`` needs no translation)."""
    return message


LINK_ERRORS = {
    "timeout": _("time-out"),
    "connection": _("verbinding mislukt"),
    "redirects": _("te veel doorverwijzingen"),
    "invalid": _("ongeldig adres"),
}


@dataclass(frozen=True)
class LinkResult:
    ok: bool
    error: str | None = None


class _Failure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LinkChecker:
    """Checks urls over one client: one request at a time per host, ``host_interval``
    seconds apart (from the end of one to the start of the next), each bounded by
    ``request_timeout`` seconds per phase (twice that in all) and sent with our
    ``User-Agent``."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        user_agent: str,
        request_timeout: float,
        host_interval: float,
    ) -> None:
        self._client = client
        self._headers = {"User-Agent": user_agent}
        self._timeout = request_timeout
        self._interval = host_interval
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._last_end: dict[str, float] = {}

    async def check(self, url: str) -> LinkResult:
        """HEAD, falling back to GET per hop; redirects followed by hand so each hop is
        paced and counted."""
        try:
            current = _parse(url)
            method = "HEAD"
            for _hop in range(MAX_REDIRECTS + 1):
                status, location = await self._request(method, current)
                if method == "HEAD" and status in HEAD_REFUSED:
                    method = "GET"
                    status, location = await self._request(method, current)
                if status in REDIRECTS and location:
                    current = _parse(str(current.join(location)))
                    continue
                if status >= 400:
                    return LinkResult(ok=False, error=f"HTTP {status}")
                return LinkResult(ok=True)
            return LinkResult(ok=False, error=LINK_ERRORS["redirects"])
        except _Failure as failure:
            return LinkResult(ok=False, error=failure.reason)

    async def _request(self, method: str, url: httpx.URL) -> tuple[int, str | None]:
        try:
            try:
                return await self._paced(method, url)
            except httpx.ProtocolError:
                if method != "HEAD":
                    raise
                # Some servers botch HEAD or hang up on it: GET is the real test.
                return await self._paced("GET", url)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise _Failure(LINK_ERRORS["timeout"]) from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise _Failure(LINK_ERRORS["invalid"]) from exc
        except httpx.HTTPError as exc:  # refused, reset, DNS, TLS, a malformed answer
            raise _Failure(LINK_ERRORS["connection"]) from exc

    async def _paced(self, method: str, url: httpx.URL) -> tuple[int, str | None]:
        """The response's status and ``Location``; the body is never read."""
        host = host_key(url)
        async with self._locks[host]:
            last = self._last_end.get(host)
            if last is not None:
                wait = last + self._interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            try:
                # httpx's time-out is per phase and normally fires first; the outer one
                # only bounds a server that trickles. It is set later on purpose: cancelling
                # a request inside httpcore's pool can leave the pool stuck (encode/httpcore
                # #830, #1093), which would fail every later check on this client.
                async with asyncio.timeout(self._timeout * 2):
                    async with self._client.stream(
                        method,
                        url,
                        headers=self._headers,
                        timeout=self._timeout,
                        follow_redirects=False,  # each hop is paced and counted here
                    ) as response:
                        return response.status_code, response.headers.get("location")
            finally:
                self._last_end[host] = time.monotonic()


def host_key(url: httpx.URL) -> str:
    """Pacing is per host and port (what a server sees as one client's load)."""
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"{url.host}:{port}"


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise _Failure(LINK_ERRORS["invalid"]) from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise _Failure(LINK_ERRORS["invalid"])
    return parsed


def _host_for_log(url: str) -> str:
    try:
        return httpx.URL(url.strip()).host or "?"
    except httpx.InvalidURL:
        return "?"


def user_agent(public_url: str) -> str:
    return f"CLB-platform linkchecker (+{public_url.rstrip('/')}/)"


def _by_host(
    links: Sequence[tuple[uuid.UUID, str | None]],
) -> dict[str, list[tuple[uuid.UUID, str]]]:
    """The links grouped by host ("" for a url that is not one), so each host gets its turn."""
    by_host: defaultdict[str, list[tuple[uuid.UUID, str]]] = defaultdict(list)
    for tool_id, url in links:
        if url is None:
            continue
        try:
            key = host_key(httpx.URL(url.strip()))
        except httpx.InvalidURL:
            key = ""
        by_host[key].append((tool_id, url))
    return by_host


async def check_links(
    services: Services,
    *,
    now: datetime | None = None,
    client: httpx.AsyncClient | None = None,
    batch: int = DEFAULT_BATCH,
    request_timeout: float = DEFAULT_TIMEOUT,
    host_interval: float = DEFAULT_HOST_INTERVAL,
    max_hosts: int = MAX_PARALLEL_HOSTS,
) -> dict[str, int]:
    """Check up to ``batch`` due links (the longest unchecked first); returns how many got
    each status. Each verdict is committed as it comes, so an interrupted run keeps its
    work. A ``client`` passed in (tests) is used instead of a fresh one."""
    start = now or utcnow()
    async with transaction(services.sessionmaker) as session:
        rows = await repository.links_due(
            session,
            checked_before=start - CHECK_INTERVAL,
            failing_checked_before=start - RECHECK_FAILING,
            batch=batch,
        )
    by_host = _by_host(rows)

    counts: Counter[str] = Counter()
    hosts = asyncio.Semaphore(max_hosts)

    async def check_host(checker: LinkChecker, links: list[tuple[uuid.UUID, str]]) -> None:
        async with hosts:
            for tool_id, url in links:
                result = await checker.check(url)
                status = await _record(services, tool_id, url, result, now or utcnow())
                if status is not None:
                    counts[status] += 1
                log.info(
                    "link check %s: %s", _host_for_log(url), result.error or LinkStatus.ok.value
                )

    async def run(http: httpx.AsyncClient) -> None:
        checker = LinkChecker(
            http,
            user_agent=user_agent(services.settings.public_url),
            request_timeout=request_timeout,
            host_interval=host_interval,
        )
        async with asyncio.TaskGroup() as group:
            for links in by_host.values():
                group.create_task(check_host(checker, links))

    if client is not None:
        await run(client)
    else:
        async with httpx.AsyncClient(timeout=request_timeout) as http:
            await run(http)
    return dict(counts)


async def _record(
    services: Services, tool_id: uuid.UUID, url: str, result: LinkResult, checked_at: datetime
) -> str | None:
    """Write the verdict unless the url changed meanwhile; the new status (or None)."""
    async with transaction(services.sessionmaker) as session:
        return await repository.record_link_verdict(
            session, tool_id, url, ok=result.ok, error=result.error, checked_at=checked_at
        )
