"""How long from a visitor's flagged message to the coordinator's alert on screen (goal < 1 s).

Run ``python -m tests.bench.flag_alert --help``. Not a test: pytest does not collect it.

It makes its own scratch database (real migrations, so the default triage lexicon is there)
and Redis namespace, starts ``clb serve`` processes on 127.0.0.1 (by default two: the
dashboard on one, the visitor on the other, so the alert crosses instances through Redis as
it would behind a load balancer), logs a coordinator in to ``/console/toezicht`` in headless
Chromium and, per run, lets a new visitor's socket send a message with a lexicon term.

Clock: the send time is taken in this process (``time.time()``) just before the frame goes
out; the page records the moment the alert element is added (a MutationObserver, with
``performance.timeOrigin + performance.now()``) and the first frame after that (two
animation frames: the alert has been painted). Both are the machine's wall clock.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import time
import uuid
from typing import Any

import httpx
import orjson
from playwright.async_api import Page, async_playwright
from websockets.asyncio.client import connect
from websockets.typing import Origin

from clb.auth.models import StaffAccount
from clb.db import create_engine, create_sessionmaker
from clb.org.models import Centre
from tests.bench.harness.report import log
from tests.bench.harness.services import Resources
from tests.chat.support import FORM
from tests.conftest import TEST_PASSWORD, TEST_PASSWORD_HASH
from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, log_in

TERM_MESSAGE = "eigenlijk ik wil niet meer leven"  # "niet meer leven" is in the default lexicon
COORDINATOR = "toezicht@clb.example"

WATCH_ALERTS = """
() => {
  window.__alerts = {};
  const box = document.getElementById("alerts");
  new MutationObserver((records) => {
    const dom = performance.timeOrigin + performance.now();
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== 1 || !node.dataset.id) continue;
        const entry = { dom, painted: null };
        window.__alerts[node.dataset.id] = entry;
        requestAnimationFrame(() => requestAnimationFrame(() => {
          entry.painted = performance.timeOrigin + performance.now();
        }));
      }
    }
  }).observe(box, { childList: true });
}
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--servers", type=int, choices=(1, 2), default=2)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    parser.add_argument("--pause", type=float, default=0.7, help="seconds between runs")
    parser.add_argument("--out", default="/tmp/flag_alert_bench.json")  # noqa: S108
    return parser


async def make_coordinator(resources: Resources) -> None:
    engine = create_engine(resources.database_url)
    sessions = create_sessionmaker(engine)
    async with sessions() as session:
        centre = Centre(
            slug="bench",
            name="CLB bench",
            phone=None,
            email=None,
            website=None,
            second_factor_required=False,
        )
        session.add(centre)
        await session.flush()
        session.add(
            StaffAccount(
                email=COORDINATOR,
                full_name="Toezicht Bench",
                display_name="Toezicht",
                centre_id=centre.id,
                roles=["coordinator"],
                password_hash=TEST_PASSWORD_HASH,
            )
        )
        await session.commit()
    await engine.dispose()


async def one_run(page: Page, base_url: str, number: int) -> dict[str, float]:
    headers = {"X-Forwarded-For": f"10.9.{number // 250}.{number % 250 + 1}"}
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30) as http:
        token = (await http.post("/api/visitors", headers=headers)).json()["token"]
        started = await http.post(
            "/api/chat/conversations",
            json={**FORM, "nickname": f"Bench{number}"},
            headers={**headers, "authorization": f"Bearer {token}"},
        )
        started.raise_for_status()
        conversation_id = started.json()["conversation_id"]
    ws_url = base_url.replace("http://", "ws://") + "/ws/chat"
    async with connect(ws_url, origin=Origin(base_url), proxy=None) as socket:
        hello = {"type": "hello", "v": 1, "token": token, "conversation_id": conversation_id}
        await socket.send(orjson.dumps(hello).decode())
        while orjson.loads(await socket.recv())["type"] != "welcome":
            pass
        await asyncio.sleep(0.2)  # let the queue snapshot of the new visitor pass first
        frame = {"type": "send", "client_msg_id": str(uuid.uuid4()), "body": TERM_MESSAGE}
        sent = time.time() * 1000
        await socket.send(orjson.dumps(frame).decode())
        while orjson.loads(await socket.recv())["type"] != "ack":
            pass
        acked = time.time() * 1000
        await page.wait_for_function(
            "id => window.__alerts[id] && window.__alerts[id].painted",
            arg=conversation_id,
            timeout=15000,
        )
        seen = await page.evaluate("id => window.__alerts[id]", conversation_id)
        await socket.send(orjson.dumps({"type": "leave"}).decode())  # keep the queue short
    return {
        "ack_ms": acked - sent,
        "dom_ms": seen["dom"] - sent,
        "painted_ms": seen["painted"] - sent,
    }


def describe(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, max(0, round(0.9 * len(ordered)) - 1))]
    return (
        f"median {statistics.median(ordered):7.1f} ms   p90 {p90:7.1f} ms   "
        f"max {ordered[-1]:7.1f} ms   (n={len(ordered)})"
    )


async def run(options: argparse.Namespace, resources: Resources) -> dict[str, Any]:
    try:
        import chat.triage.service  # noqa: F401 - the bench measures triage's alert
    except ImportError:
        missing = "crisis triage (chat/triage.py) is not there yet: nothing to measure"
        raise SystemExit(missing) from None
    log(f"database {resources.database}, Redis namespace {resources.namespace}")
    await resources.create_database()
    await make_coordinator(resources)
    extra_env = {
        "CLB_CHAT_ALWAYS_OPEN": "true",
        "CLB_CHAT_MAX_QUEUE": "100000",
        "CLB_CHAT_ADDRESS_RATE_PER_MINUTE": "100000",
    }
    await resources.start_servers(options.servers, extra_env)
    dashboard_url = resources.servers[0].base_url
    visitor_url = resources.servers[-1].base_url
    log(f"dashboard on {dashboard_url}, visitors on {visitor_url}")
    results: list[dict[str, float]] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            page = await (await browser.new_context(locale="nl-BE")).new_page()
            await log_in(page, dashboard_url, COORDINATOR, TEST_PASSWORD)
            await page.goto(dashboard_url + "/console/toezicht")
            await page.locator("[data-updated]", has_text="Live").wait_for()
            await page.evaluate(WATCH_ALERTS)
            for number in range(options.runs):
                result = await one_run(page, visitor_url, number)
                results.append(result)
                log(
                    f"run {number + 1:2d}: ack {result['ack_ms']:6.1f} ms, alert in DOM "
                    f"{result['dom_ms']:6.1f} ms, painted {result['painted_ms']:6.1f} ms"
                )
                await asyncio.sleep(options.pause + secrets.randbelow(500) / 1000)
        finally:
            await browser.close()
    return {
        "runs": results,
        "servers": options.servers,
        "summary": {
            key: describe([r[key] for r in results]) for key in ("ack_ms", "dom_ms", "painted_ms")
        },
    }


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    resources = Resources.for_options(options.database_url, options.redis_url, "flag_alert_bench_")
    try:
        report = asyncio.run(run(options, resources))
    finally:
        asyncio.run(resources.cleanup())
        resources.cleanup_sync()
    with open(options.out, "wb") as out:
        out.write(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print()
    print(f"flag → coordinator alert, {len(report['runs'])} runs, {options.servers} server(s):")
    print(f"  send → ack (stored, triaged)   {report['summary']['ack_ms']}")
    print(f"  send → alert element in DOM    {report['summary']['dom_ms']}")
    print(f"  send → alert painted           {report['summary']['painted_ms']}")
    print(f"JSON: {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
