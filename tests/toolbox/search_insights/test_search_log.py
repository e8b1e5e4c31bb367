"""The search log: counts only, once per visitor and day, added up across app instances,
flushed once, kept 90 days; a query that looks like personal data is never counted."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from clb.config import Settings
from clb.db import create_engine, create_sessionmaker
from clb.services import Services
from clb.web.security import hash_ip
from composition.app import create_app
from tests.conftest import PUBLIC_URL
from toolbox.catalogue.models import Tool, ToolStatus
from toolbox.search_insights import service
from toolbox.search_insights.counting import (
    BRUSSELS,
    TAG,
    flush_counts,
    looks_personal,
    normalise_query,
    record_click,
    record_search,
)
from toolbox.search_insights.models import SearchDay
from toolbox.search_insights.repository import DayCounts, add_counts
from toolbox.search_insights.tasks import purge_search_log

CLICK = "/toolbox/zoekklik"


@pytest.fixture
async def other_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """A second instance on the same PostgreSQL and Redis, as behind a load balancer."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def rows(db: AsyncSession) -> dict[str, tuple[int, int, int]]:
    db.expire_all()
    found = await db.scalars(select(SearchDay))
    return {r.query: (r.searches, r.zero_results, r.clicks) for r in found.all()}


def visitor(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client of ``app`` from its own address: another visitor."""
    transport = httpx.ASGITransport(app=app, client=(address, 51000))
    return httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL)


async def listed_without_results(db: AsyncSession) -> dict[str, int]:
    found = await service.insights(db, service.today_in_brussels())
    return {row.query: row.count for row in found.zero_results}


def test_a_query_is_normalised_before_it_is_counted() -> None:
    assert normalise_query("  Gepést   op   SCHOOL!! ") == "gepest op school"
    assert normalise_query("Faalángst?") == normalise_query("faalangst")
    assert normalise_query("  ?! ") == ""
    assert len(normalise_query("examen " * 40)) <= 100


async def test_counts_from_two_instances_add_up_and_are_flushed_once(
    services: Services, client: httpx.AsyncClient, other_app: FastAPI, db: AsyncSession
) -> None:
    other: Services = other_app.state.services
    await record_search(services, "Gepest", 0, visitor="v1")
    await record_search(other, "gepest!", 0, visitor="v2")
    await record_search(other, "gepest", 3, visitor="v3")
    await record_search(services, "   ", 0, visitor="v4")  # nothing to count
    async with visitor(other_app, "192.0.2.7") as other_client:
        for http in (client, other_client):
            answer = await http.post(CLICK, data={"q": "GEPEST", "tool": "awel"})
            assert answer.status_code == 204, answer.text

    # Two workers flushing at the same moment write each count once.
    written = await asyncio.gather(flush_counts(services), flush_counts(other))
    assert sum(written) == 1
    assert await rows(db) == {"gepest": (3, 2, 2)}

    await record_search(other, "gepest", 0, visitor="v5")
    await record_click(services, db, "gepest", "awel", visitor="v5")
    assert await flush_counts(services) == 1
    assert await flush_counts(services) == 0  # nothing new
    assert await rows(db) == {"gepest": (4, 3, 3)}


async def test_a_failed_flush_keeps_the_counts_for_the_next_one(
    services: Services, db: AsyncSession, database_url: str
) -> None:
    await record_search(services, "blokken", 0, visitor="v1")
    # A worker whose database does not answer (a real connection to a missing database).
    engine = create_engine(database_url.rsplit("/", 1)[0] + "/clb_no_such_database")
    cut_off = dataclasses.replace(services, sessionmaker=create_sessionmaker(engine))
    try:
        with pytest.raises(DBAPIError):
            await flush_counts(cut_off)
    finally:
        await engine.dispose()
    assert await rows(db) == {}
    assert await flush_counts(services) == 1
    assert await rows(db) == {"blokken": (1, 1, 0)}


async def test_the_retention_job_deletes_days_older_than_90(
    services: Services, db: AsyncSession
) -> None:
    today = service.today_in_brussels()
    await add_counts(
        db,
        [
            DayCounts(today - timedelta(days=89), "nog bewaard", 1, 1, 0),
            DayCounts(today - timedelta(days=90), "te oud", 1, 1, 0),
            DayCounts(today - timedelta(days=400), "veel te oud", 1, 1, 0),
        ],
    )
    await db.commit()
    assert await purge_search_log({"services": services}) == 2
    assert set(await rows(db)) == {"nog bewaard"}


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"tool": "awel"}, 422),  # no query
        ({"q": "", "tool": "awel"}, 422),
        ({"q": "gepest"}, 422),  # no tool
        ({"q": "gepest", "tool": "../../etc"}, 422),
        ({"q": "gepest", "tool": "Awel Vzw"}, 422),
        ({"q": "x" * 201, "tool": "awel"}, 422),
        ({"q": "gepest", "tool": "a" * 121}, 422),
    ],
)
async def test_the_click_endpoint_refuses_bad_input(
    client: httpx.AsyncClient, db: AsyncSession, data: dict[str, str], status: int
) -> None:
    answer = await client.post(CLICK, data=data)
    assert answer.status_code == status
    assert answer.json()["error"]["code"]


async def test_the_click_endpoint_refuses_json_other_sites_and_floods(
    client: httpx.AsyncClient, services: Services, db: AsyncSession
) -> None:
    as_json = await client.post(CLICK, json={"q": "gepest", "tool": "awel"})
    assert as_json.status_code == 422
    foreign = await client.post(
        CLICK, data={"q": "gepest", "tool": "awel"}, headers={"origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    answers = [
        (await client.post(CLICK, data={"q": "gepest", "tool": "awel"})).status_code
        for _ in range(31)
    ]
    assert answers[:30] == [204] * 30
    assert answers[30] == 429
    await flush_counts(services)
    assert await rows(db) == {"gepest": (0, 0, 1)}  # one visitor: one click


async def test_the_search_page_counts_its_first_page_but_never_a_crisis_search(
    services: Services, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """What the catalogue page records: a search once (page 1; paging on is the same
    search), not a browse without words, and a search the safety net catches not at all."""
    for params in (
        {"q": "qwxyz onbestaand"},
        {"q": "qwxyz onbestaand", "pagina": "2"},
        {},
        {"q": "ik wil dood"},
    ):
        page = await client.get("/toolbox", params=params)
        assert page.status_code == 200, params
    await flush_counts(services)
    assert await rows(db) == {"qwxyz onbestaand": (1, 1, 0)}
    crisis = await client.get("/toolbox", params={"q": "ik wil dood"})
    assert "Deze lijst delen" not in crisis.text and "toolbox-search-click" not in crisis.text


async def test_one_visitor_searching_again_and_again_counts_once(
    app: FastAPI, services: Services, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """The probe: one client searching a name eleven times must not put it on the list."""
    for _ in range(11):
        assert (await client.get("/toolbox", params={"q": "Qwxyz Peeters"})).status_code == 200
    await flush_counts(services)
    assert await rows(db) == {"qwxyz peeters": (1, 1, 0)}
    assert await listed_without_results(db) == {}

    for n in range(1, 10):  # nine more visitors, each twice: ten in all
        async with visitor(app, f"192.0.2.{n}") as other:
            for _ in range(2):
                page = await other.get("/toolbox", params={"q": "qwxyz peeters!"})
                assert page.status_code == 200
    await flush_counts(services)
    assert await rows(db) == {"qwxyz peeters": (10, 10, 0)}
    assert await listed_without_results(db) == {"qwxyz peeters": 10}


async def test_each_kind_counts_once_per_visitor_and_the_markers_say_nothing(
    services: Services, db: AsyncSession
) -> None:
    for count in (3, 0, 0, 5):  # found something, then nothing: one of each, once
        await record_search(services, "Examenstress", count, visitor="visitor-a")
    await record_search(services, "examenstress", 4, visitor="visitor-b")
    for slug in ("awel", "awel", "awel-chat-en-forum"):
        await record_click(services, db, "examenstress", slug, visitor="visitor-a")
    await flush_counts(services)
    assert await rows(db) == {"examenstress": (2, 1, 1)}

    # What stays in Redis until the day ends in Brussels: markers that name no visitor and
    # no query, and expire with the day.
    redis, keys = services.redis, services.keys
    markers = [key.decode() async for key in redis.scan_iter(match=keys.key(TAG, "seen", "*"))]
    assert len(markers) == 4  # a: search, zero, click; b: search
    now = datetime.now(BRUSSELS)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), BRUSSELS)
    for marker in markers:
        assert "visitor" not in marker and "examen" not in marker
        assert 0 < await redis.ttl(marker) <= (midnight - now).total_seconds() + 1


def test_the_visitor_stays_one_visitor_through_a_brussels_day() -> None:
    """visitor_of salts with the day in Brussels: the hash does not turn at midnight UTC."""
    secret = "s" * 40
    morning = datetime(2026, 12, 5, 0, 30, tzinfo=BRUSSELS)  # still 4 December in UTC
    evening = datetime(2026, 12, 5, 23, 30, tzinfo=BRUSSELS)
    tomorrow = datetime(2026, 12, 6, 0, 30, tzinfo=BRUSSELS)
    assert hash_ip("192.0.2.1", secret, now=morning) == hash_ip("192.0.2.1", secret, now=evening)
    assert hash_ip("192.0.2.1", secret, now=evening) != hash_ip("192.0.2.1", secret, now=tomorrow)


async def test_an_ipv6_connection_is_one_visitor(
    app: FastAPI, services: Services, db: AsyncSession
) -> None:
    """A /64 is one connection: new addresses in it are the same visitor."""
    for address in ("2001:db8:1:2::1", "2001:db8:1:2::ff", "2001:db8:1:2:abcd::7"):
        async with visitor(app, address) as http:
            assert (await http.get("/toolbox", params={"q": "qwxyz"})).status_code == 200
            answer = await http.post(CLICK, data={"q": "qwxyz", "tool": "awel"})
            assert answer.status_code == 204
    for address in ("2001:db8:1:3::1", "::ffff:192.0.2.1", "192.0.2.1"):
        async with visitor(app, address) as http:
            assert (await http.get("/toolbox", params={"q": "qwxyz"})).status_code == 200
    await flush_counts(services)
    assert await rows(db) == {"qwxyz": (3, 3, 1)}


@pytest.mark.parametrize(
    "query",
    [
        "Jan Peeters 0470123456",
        "jan peeters 0470 12 34 56",
        "0470/12.34.56",
        "+32 470 12 34 56",
        "85.07.30-033.61",  # a national register number
        "BE68 5390 0754 7034",
        "jan.peeters@gmail.com",
        "mail naar jan@school",
        "jan＠school.be",  # a full-width at sign
    ],
)
async def test_a_query_that_looks_like_personal_data_is_never_counted(
    services: Services, client: httpx.AsyncClient, db: AsyncSession, query: str
) -> None:
    assert looks_personal(query)
    assert (await client.get("/toolbox", params={"q": query})).status_code == 200
    await record_search(services, query, 0, visitor="v1")
    answer = await client.post(CLICK, data={"q": query, "tool": "awel"})
    assert answer.status_code == 204
    await record_click(services, db, query, "awel", visitor="v2")
    assert await flush_counts(services) == 0
    assert await rows(db) == {}


@pytest.mark.parametrize(
    "query", ["examen 2024", "12345", "1ste graad 2de jaar", "@school", "e-mail", "tel 112"]
)
def test_ordinary_queries_do_not_look_personal(query: str) -> None:
    assert not looks_personal(query)


async def test_a_click_on_a_tool_that_is_not_published_is_not_counted(
    app: FastAPI, services: Services, db: AsyncSession
) -> None:
    """The probe: clicks on a made-up tool kept "faalangst" off the low-click list."""
    await db.execute(
        update(Tool).where(Tool.slug == "awel").values(status=ToolStatus.archived.value)
    )
    await db.commit()
    for n in range(1, 13):
        async with visitor(app, f"192.0.2.{n}") as http:
            for tool in ("bestaat-niet", "awel"):
                answer = await http.post(CLICK, data={"q": "faalangst", "tool": tool})
                assert answer.status_code == 204, answer.text
    await flush_counts(services)
    assert await rows(db) == {}
    await record_click(services, db, "faalangst", "bestaat-niet", visitor="v1")
    await flush_counts(services)
    assert await rows(db) == {}


async def test_a_click_on_a_crisis_search_is_not_counted(
    services: Services, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """The results page of a crisis search sends no click; a made-up one leaves no words."""
    answer = await client.post(CLICK, data={"q": "ik wil dood", "tool": "awel"})
    assert answer.status_code == 204
    await record_click(services, db, "Ik wil dood", "awel", visitor="v1")
    assert await flush_counts(services) == 0
    assert await rows(db) == {}


async def test_a_visitors_clicks_on_the_results_of_one_query_count_once(
    app: FastAPI, services: Services, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    for tool in ("awel", "awel", "awel-chat-en-forum", "awel"):
        answer = await client.post(CLICK, data={"q": "faalangst", "tool": tool})
        assert answer.status_code == 204
    answer = await client.post(CLICK, data={"q": "pesten", "tool": "awel"})  # another query
    async with visitor(app, "192.0.2.1") as other:
        answer = await other.post(CLICK, data={"q": "Faalangst", "tool": "awel"})
        assert answer.status_code == 204
    await flush_counts(services)
    assert await rows(db) == {"faalangst": (0, 0, 2), "pesten": (0, 0, 1)}
