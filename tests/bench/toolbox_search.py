"""Toolbox search latency over a large catalogue (issue target: p99 < 20 ms at 10,000 items).

Creates a scratch database, migrates it (which loads the real seed catalogue), adds
generated tools until there are --items in all, then times searches the way the catalogue
page runs them (repository.search_tools: the query read through the theme vocabularies,
compounds split and typos corrected against the catalogue's words, Dutch full text with
prefixes, theme matches, filters, ranking with help lines first, one page plus the total)
and the same over HTTP through the app (with the crisis check of the safety net). The query
mix holds the old single words and the ways pupils and parents type (questions, compounds,
typos, other languages). Run:

    .venv/bin/python -m tests.bench.toolbox_search --items 10000 --queries 400 \
        --redis-url redis://127.0.0.1:6379/15

Generated items use a large made-up vocabulary with one topic word (faalangst, examens …)
per sentence, so a topic word appears in roughly a tenth of the catalogue, as in a real one
where many tools touch on a theme. The load generator runs in the same process on the same
machine as PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import time
import uuid

import asyncpg
import httpx

from clb.config import Settings
from clb.db import create_engine, create_sessionmaker
from composition.app import create_app
from composition.migrate import migrate
from toolbox.catalogue import repository
from toolbox.catalogue.models import AUDIENCES, LEVELS, THEMES, Kind
from toolbox.catalogue.repository import ToolFilter

WORDS = (
    "faalangst examens stress studiekeuze motivatie pesten vrienden thuis ouders school leren "
    "slapen piekeren rouw verlies gezondheid sport voeding alcohol gamen online veilig geld "
    "relaties seksualiteit gevoelens zelfvertrouwen concentratie plannen huiswerk toetsen "
    "begeleiding gesprek luisteren hulp tips oefening werkblad video brochure jongeren kinderen"
).split()
QUERIES = [
    "faalangst",
    "faalangstig",
    "examens",
    "studiekeuze",
    "pesten op school",
    "piekeren",
    "onderwijskeizer",
    "ideeen",
    "stress examens",
    "slaap",
    "hulp bij rouw",
    "gamen",
    "geld",
    "motivatie huiswerk",
    "zelfvertrouwen",
    "online veilig",
    "studiek",
    "concentratie",
    # As pupils and parents type them (issue 21): phrasing, compounds, typos, other languages.
    "ik word gepest",
    "wat moet ik doen als ik gepest word",
    "gepest",
    "pestgedrag",
    "examenstress",
    "bang voor examen",
    "depressief",
    "depresie",
    "huiswerk",
    "zwanger",
    "racisme",
    "fallangst",
    "studiekeuse",
    "ik wil dood",
    "mijn ouders gaan scheiden",
    "bullying",
    "harcèlement",
    "I want to die",
    "sınav stresi",
]


SYLLABLES = (
    "ba be bo de di do ge go ka ke ko la le lo ma me mo na ne no pe po ra re ro sa se so ta te to "
    "va ve vo wa we zo"
).split()


def filler_words(rng: random.Random, count: int) -> list[str]:
    """Made-up words: a real catalogue's vocabulary is large, so any one topic word
    appears in a small share of the items, not in all of them."""
    return ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(count)]


def sentence(rng: random.Random, n: int, filler: list[str], topical: int) -> str:
    words = [rng.choice(filler) for _ in range(n - topical)]
    words += [rng.choice(WORDS) for _ in range(topical)]
    rng.shuffle(words)
    return " ".join(words).capitalize() + "."


async def fill(dsn: str, items: int, seed: int) -> None:
    rng = random.Random(seed)
    filler = filler_words(rng, 5000)
    connection = await asyncpg.connect(dsn)
    try:
        existing = int(await connection.fetchval("SELECT count(*) FROM toolbox_tools"))
        rows = []
        for n in range(max(0, items - existing)):
            rows.append(
                (
                    uuid.uuid4(),
                    f"gen-{n}",
                    sentence(rng, 4, filler, 1)[:-1],
                    sentence(rng, 12, filler, 1),
                    " ".join(sentence(rng, 15, filler, 1) for _ in range(3)),
                    "",
                    rng.choice(list(Kind)).value,
                    rng.sample(THEMES, 2),
                    rng.sample(AUDIENCES, 2),
                    rng.sample(LEVELS, 1),
                    ["nl"],
                    f"https://example.org/{n}",
                    "Generated",
                    "published",
                )
            )
        await connection.executemany(
            "INSERT INTO toolbox_tools (id, slug, title, summary, description, search_terms, kind,"
            " themes, audiences, levels, languages, url, provider, status, created_at, updated_at)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14, now(), now())",
            rows,
        )
        await connection.execute("ANALYZE toolbox_tools")
    finally:
        await connection.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def specs(rng: random.Random, count: int) -> list[ToolFilter]:
    result = []
    for _ in range(count):
        choice = rng.random()
        if choice < 0.6:
            result.append(ToolFilter(query=rng.choice(QUERIES)))
        elif choice < 0.85:
            result.append(
                ToolFilter(
                    query=rng.choice(QUERIES),
                    themes=(rng.choice(THEMES),),
                    audiences=(rng.choice(AUDIENCES),),
                )
            )
        else:
            result.append(ToolFilter(themes=(rng.choice(THEMES),), sort="titel"))
    return result


async def run(args: argparse.Namespace) -> None:
    name = f"bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(args.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = args.database_url.rpartition("/")
    dsn = f"{base}/{name}"
    url = "postgresql+asyncpg://" + dsn.split("://", 1)[1]
    try:
        await migrate(url)
        await fill(dsn, args.items, args.seed)
        rng = random.Random(args.seed)
        direct, total = await time_repository(url, rng, args.queries)
        over_http = await time_http(url, args.redis_url, rng, args.queries)
        print_report(total, args.queries, direct, over_http)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def time_repository(url: str, rng: random.Random, queries: int) -> tuple[list[float], int]:
    """Milliseconds per repository.search_tools call, and the catalogue's size."""
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    direct: list[float] = []
    async with maker() as session:
        for spec in specs(rng, 20):  # warm-up
            await repository.search_tools(session, spec, limit=20)
        for spec in specs(rng, queries):
            started = time.perf_counter()
            await repository.search_tools(session, spec, limit=20)
            direct.append((time.perf_counter() - started) * 1000)
        total = (await repository.search_tools(session, ToolFilter(), limit=1))[1]
    await engine.dispose()
    return direct, total


async def time_http(url: str, redis_url: str, rng: random.Random, queries: int) -> list[float]:
    """Milliseconds per GET /toolbox?q=… through the app, in this process."""
    settings = Settings(
        env="test",
        database_url=url,
        redis_url=redis_url,
        redis_namespace=f"bench{secrets.token_hex(3)}",
        secret_key="bench-" + "x" * 40,
        public_url="http://127.0.0.1:8000",
    )
    app = create_app(settings)
    over_http: list[float] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            for _ in range(20):
                await http.get("/toolbox", params={"q": rng.choice(QUERIES)})
            for _ in range(queries):
                started = time.perf_counter()
                response = await http.get("/toolbox", params={"q": rng.choice(QUERIES)})
                over_http.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
    return over_http


def print_report(total: int, queries: int, direct: list[float], over_http: list[float]) -> None:
    print(f"catalogue size: {total} published tools; {queries} searches each")
    print("load generator: same process and machine as PostgreSQL (2 cores)")
    for label, values in (
        ("repository.search_tools", direct),
        ("GET /toolbox (in-process)", over_http),
    ):
        print(
            f"{label:28} p50 {statistics.median(values):6.2f} ms   "
            f"p90 {percentile(values, 90):6.2f} ms   p99 {percentile(values, 99):6.2f} ms   "
            f"max {max(values):6.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
