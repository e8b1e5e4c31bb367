"""Chat statistics on real PostgreSQL rows: what counts, Brussels days and ISO weeks (also
on DST days), percentiles, suppression on the page and in the CSV, the export's audit row,
who may see them and what bad input gets."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.console.models import ConversationTransfer
from chat.conversations.models import Conversation, Status
from chat.counsellor_tools.models import ConversationOutcome
from chat.counsellor_tools.taxonomy import TOPICS
from chat.opening_hours.schedule import chat_clock
from chat.statistics import service as statistics
from chat.statistics.repository import figures_by_period
from chat.statistics.service import Grouping, Period
from clb.audit import AuditEvent
from tests.clb.auth.helpers import login
from tests.conftest import make_staff

BRUSSELS = ZoneInfo("Europe/Brussels")
PAGE = "/console/statistieken"
HTML = {"accept": "text/html"}


def local(day: str, clock: str = "18:00", fold: int = 0) -> datetime:
    return datetime.combine(
        date.fromisoformat(day), time.fromisoformat(clock), tzinfo=BRUSSELS
    ).replace(fold=fold)


async def add_chat(
    db: AsyncSession,
    created: datetime,
    *,
    wait: float | None = None,
    duration: float | None = None,
    abandoned_after: float | None = None,
    rating: int | None = None,
    topic: str = "school",
    outcome: tuple[Sequence[str], Sequence[str]] | None = None,
    appointment: bool = False,
) -> Conversation:
    """A conversation with controlled times (minutes). ``wait`` = answered after that
    long; ``abandoned_after`` = left the queue unanswered; neither = still waiting."""
    chat = Conversation(
        nickname="x",
        who="andere" if appointment else "leerling",
        topic=topic,
        time_limit_minutes=45,
        created_at=created,
        joined_at=created,
        status=Status.waiting.value,
        rating=rating,
    )
    if appointment:
        chat.status = Status.ended.value
        chat.claimed_at = created
        chat.ended_at = created + timedelta(minutes=30)
    elif wait is not None:
        chat.claimed_at = created + timedelta(minutes=wait)
        chat.status = Status.active.value
        if duration is not None:
            chat.status = Status.ended.value
            chat.ended_at = chat.claimed_at + timedelta(minutes=duration)
    elif abandoned_after is not None:
        chat.status = Status.abandoned.value
        chat.ended_at = created + timedelta(minutes=abandoned_after)
    db.add(chat)
    await db.flush()
    if outcome is not None:
        db.add(
            ConversationOutcome(
                conversation_id=chat.id, topics=list(outcome[0]), referrals=list(outcome[1])
            )
        )
    return chat


@pytest.fixture
def clock(app: FastAPI) -> Iterator[None]:
    app.dependency_overrides[chat_clock] = lambda: local("2026-06-10", "12:00")
    yield
    app.dependency_overrides.pop(chat_clock, None)


@pytest.fixture
async def coordinator(
    client: httpx.AsyncClient, db: AsyncSession, clock: None
) -> httpx.AsyncClient:
    await make_staff(db, email="co@clb.example", roles=("coordinator",))
    assert (await login(client, "co@clb.example")).status_code == 303
    return client


def period(first: str, last: str, grouping: Grouping = Grouping.day) -> Period:
    return Period(date.fromisoformat(first), date.fromisoformat(last), grouping)


# --- what counts, and when ------------------------------------------------------------------


async def test_walk_in_chats_are_counted_and_appointments_and_waiting_ones_are_not(
    db: AsyncSession,
) -> None:
    day = "2026-06-01"
    for n in range(12):
        await add_chat(db, local(day, "17:00") + timedelta(minutes=n), wait=2, duration=20)
    for n in range(11):
        await add_chat(db, local(day, "18:00") + timedelta(minutes=n), abandoned_after=3)
    await add_chat(db, local(day, "19:00"), appointment=True)
    await add_chat(db, local(day, "20:00"))  # still waiting
    # Started over HTTP, its page never connected, ended after the return window: never
    # in the queue, so neither offered nor abandoned.
    ghost = await add_chat(db, local(day, "20:10"), abandoned_after=10)
    ghost.joined_at = None
    # Claimed, sent back to the queue (cold transfer) and waiting again: answered once.
    returned = await add_chat(db, local(day, "20:30"))
    db.add(ConversationTransfer(conversation_id=returned.id, kind="cold"))
    await db.commit()

    report = await statistics.build_report(db, period(day, day))
    counts = report.total.counts
    assert counts["offered"].value == 24
    assert counts["answered"].value == 13
    assert counts["abandoned"].value == 11
    assert counts["abandoned_2_5"].value == 11
    assert report.rows[0].counts["offered"].value == 24


async def test_percentiles_come_from_the_rows(db: AsyncSession) -> None:
    day = "2026-06-02"
    for n in range(1, 11):  # waits 1..10 min, durations 10..100 min
        await add_chat(db, local(day, "17:00"), wait=n, duration=10 * n, rating=1 + n % 5)
    for n in range(1, 13):  # abandoned after 1..12 min
        await add_chat(db, local(day, "18:00"), abandoned_after=n)
    await db.commit()

    figures = {f.day: f for f in await figures_by_period(db, *_bounds(day, day))}
    figure = figures[date.fromisoformat(day)]
    # percentile_cont: linear interpolation between the ranked values.
    assert figure.percentiles["wait_p50"] == pytest.approx(5.5 * 60)
    assert figure.percentiles["wait_p90"] == pytest.approx(9.1 * 60)
    assert figure.percentiles["duration_p50"] == pytest.approx(55 * 60)
    assert figure.percentiles["abandoned_after_p50"] == pytest.approx(6.5 * 60)
    assert figure.percentiles["abandoned_after_p90"] == pytest.approx(10.9 * 60)

    report = await statistics.build_report(db, period(day, day))
    measures = report.total.measures
    assert measures["wait_p50"].value == pytest.approx(330)
    assert measures["rating_mean"].value == pytest.approx(3.0)
    counts = report.total.counts
    assert counts["abandoned_lt2"].hidden  # one chat gave up within 2 min
    assert counts["abandoned_ge15"].hidden


async def test_measures_on_fewer_than_ten_chats_are_not_shown(db: AsyncSession) -> None:
    day = "2026-06-03"
    for n in range(9):
        await add_chat(db, local(day), wait=n, duration=15, rating=5)
    for _ in range(15):
        await add_chat(db, local(day), abandoned_after=1)
    await db.commit()
    report = await statistics.build_report(db, period(day, day))
    measures = report.total.measures
    assert measures["wait_p50"].value is None
    assert measures["duration_p90"].value is None
    assert measures["rating_mean"].value is None
    assert measures["abandoned_after_p50"].value == pytest.approx(60)


def _bounds(first: str, last: str) -> tuple[datetime, datetime]:
    p = period(first, last)
    return p.start, p.end


# --- Brussels days and ISO weeks across DST -------------------------------------------------


async def test_days_and_weeks_follow_brussels_time_across_the_spring_dst_change(
    db: AsyncSession,
) -> None:
    # Sunday 29 March 2026 has 23 hours (02:00 CET → 03:00 CEST).
    moments = {
        "sat-late": local("2026-03-28", "23:30"),  # 22:30 UTC
        "sun-early": local("2026-03-29", "00:30"),  # 23:30 UTC on Saturday
        "sun-late": local("2026-03-29", "23:30"),  # 21:30 UTC
        "mon-early": local("2026-03-30", "00:30"),  # 22:30 UTC on Sunday
    }
    for moment in moments.values():
        await add_chat(db, moment, abandoned_after=1)
    await db.commit()
    assert moments["sun-early"].astimezone(UTC).date() == date(2026, 3, 28)
    assert moments["mon-early"].astimezone(UTC).date() == date(2026, 3, 29)

    only_sunday = period("2026-03-29", "2026-03-29")
    assert only_sunday.end.astimezone(UTC) - only_sunday.start == timedelta(hours=23)
    rows = await figures_by_period(db, only_sunday.start, only_sunday.end)
    totals = [r for r in rows if r.day is None and r.week is None]
    assert totals[0].counts["offered"] == 2

    rows = await figures_by_period(db, *_bounds("2026-03-28", "2026-03-30"))
    by_day = {r.day: r.counts["offered"] for r in rows if r.day is not None}
    assert by_day == {date(2026, 3, 28): 1, date(2026, 3, 29): 2, date(2026, 3, 30): 1}
    by_week = {r.week: r.counts["offered"] for r in rows if r.day is None and r.week}
    assert by_week == {date(2026, 3, 23): 3, date(2026, 3, 30): 1}  # ISO weeks 13 and 14


async def test_the_autumn_dst_day_has_25_hours_and_both_0230s(db: AsyncSession) -> None:
    # Sunday 25 October 2026: 02:00–03:00 happens twice; Monday 26 starts week 44.
    for moment in (
        local("2026-10-25", "00:10"),
        local("2026-10-25", "02:30", fold=0),  # CEST, 00:30 UTC
        local("2026-10-25", "02:30", fold=1),  # CET, 01:30 UTC
        local("2026-10-25", "23:50"),
        local("2026-10-26", "00:05"),
    ):
        await add_chat(db, moment, wait=1, duration=5)
    await db.commit()
    sunday = period("2026-10-25", "2026-10-25")
    assert sunday.end.astimezone(UTC) - sunday.start == timedelta(hours=25)
    rows = await figures_by_period(db, *_bounds("2026-10-19", "2026-10-26"))
    by_day = {r.day: r.counts["answered"] for r in rows if r.day is not None}
    assert by_day == {date(2026, 10, 25): 4, date(2026, 10, 26): 1}
    by_week = {r.week: r.counts["answered"] for r in rows if r.day is None and r.week}
    assert by_week == {date(2026, 10, 19): 4, date(2026, 10, 26): 1}

    report = await statistics.build_report(db, period("2026-10-19", "2026-10-26", Grouping.week))
    assert [row.week for row in report.rows] == [(2026, 43), (2026, 44)]
    assert report.rows[1].first == report.rows[1].last == date(2026, 10, 26)


# --- suppression in the report --------------------------------------------------------------


async def test_suppression_hides_the_small_count_and_what_would_give_it_away(
    db: AsyncSession,
) -> None:
    # Offered 25 = answered 20 + abandoned 5, all on one Monday.
    day = "2026-06-01"
    for _ in range(20):
        await add_chat(db, local(day), wait=1, duration=10)
    for _ in range(5):
        await add_chat(db, local(day), abandoned_after=1)
    await db.commit()
    for grouping in Grouping:
        report = await statistics.build_report(db, period(day, "2026-06-07", grouping))
        for row in (report.rows[0], report.total):
            assert row.counts["offered"].value == 25
            assert row.counts["abandoned"].hidden and row.counts["answered"].hidden
            assert row.counts["abandoned"].value is None and row.counts["answered"].value is None
        # The pre-chat topics add up to the 25: one topic with all of them is safe to show.
        prechat = {line.code: line.cell for line in report.prechat}
        assert prechat["school"].value == 25
        assert all(c.hidden for code, c in prechat.items() if code != "school")


async def test_a_topic_breakdown_with_one_small_topic_hides_a_second(db: AsyncSession) -> None:
    day = "2026-06-01"
    plan = {code: 10 + index for index, code in enumerate(TOPICS)}
    plan["rouw"] = 3
    for code, count in plan.items():
        for _ in range(count):
            await add_chat(db, local(day), wait=1, duration=5, outcome=([code], ["eigen_clb"]))
    await db.commit()
    report = await statistics.build_report(db, period(day, day))
    topics = {line.code: line.cell for _domain, lines in report.topics for line in lines}
    assert report.outcomes.value == sum(plan.values())
    # 3 = the outcomes minus every other topic: the smallest other one (10) goes too.
    assert {code for code, cell in topics.items() if cell.hidden} == {"rouw", "studiekeuze"}
    assert topics["schoolverandering"].value == 11
    referrals = {line.code: line.cell for line in report.referrals}
    assert referrals["eigen_clb"].value == sum(plan.values())
    assert all(cell.hidden for code, cell in referrals.items() if code != "eigen_clb")


# --- the page, the CSV and the audit ----------------------------------------------------------


async def _fill_a_week(db: AsyncSession) -> None:
    for n in range(7):
        day = (date(2026, 6, 1) + timedelta(days=n)).isoformat()
        for _ in range(12 + n):
            await add_chat(db, local(day), wait=3, duration=25, rating=4)
        for _ in range(3 if n == 2 else 11):
            await add_chat(db, local(day), abandoned_after=6)
    await db.commit()


def _cells(html: str, caption: str) -> list[list[str]]:
    table = html.split(f">{caption}</caption>", 1)[1].split("</table>", 1)[0]
    return [
        re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


async def test_the_page_shows_suppressed_tables(
    coordinator: httpx.AsyncClient, db: AsyncSession
) -> None:
    await _fill_a_week(db)
    page = await coordinator.get(
        PAGE, params={"van": "2026-06-01", "tot": "2026-06-07", "per": "dag"}, headers=HTML
    )
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    rows = _cells(page.text, "Aanbod, antwoord en duur")
    assert rows[0][:4] == ["Dag", "Aangeboden", "Beantwoord", "Afgehaakt tijdens het wachten"]
    hidden = "&lt;10"
    wednesday = rows[3]
    assert wednesday[0].startswith("wo 3 jun")
    # 3 abandoned: hidden, and so is 14 answered (17 − 14 would give the 3 away) …
    assert wednesday[1:4] == ["17", hidden, hidden]
    # … and then Monday's 12 answered (the week's answered minus the other days), which
    # in turn takes Monday's abandoned along. Tuesday and the totals stay.
    assert rows[1][1:4] == ["23", hidden, hidden]
    assert rows[2][1:4] == ["24", "13", "11"]
    assert rows[-1][0] == "Totaal"
    answered = sum(12 + n for n in range(7))
    assert rows[-1][1:4] == [str(answered + 6 * 11 + 3), str(answered), str(6 * 11 + 3)]
    assert "3,0" in page.text  # a median wait of 3 minutes, Belgian decimals
    assert "betekent: minder dan 10" in page.text
    assert (
        'href="/console/statistieken.csv?van=2026-06-01&amp;tot=2026-06-07&amp;per=dag"'
        in page.text
    )

    weekly = await coordinator.get(
        PAGE, params={"van": "2026-06-01", "tot": "2026-06-07", "per": "week"}, headers=HTML
    )
    week_rows = _cells(weekly.text, "Aanbod, antwoord en duur")
    assert week_rows[1][0].startswith("Week 23")
    assert week_rows[1][1:] == week_rows[-1][1:]  # one week: the same as the total


async def test_without_a_period_the_last_four_weeks_are_shown(
    coordinator: httpx.AsyncClient,
) -> None:
    page = await coordinator.get(PAGE, headers=HTML)
    assert page.status_code == 200
    assert 'value="2026-05-18"' in page.text and 'value="2026-06-10"' in page.text
    assert "Week 21" in page.text and "Week 24" in page.text


async def test_the_csv_has_the_same_suppressed_figures_and_is_audited(
    coordinator: httpx.AsyncClient, db: AsyncSession
) -> None:
    await _fill_a_week(db)
    query = {"van": "2026-06-01", "tot": "2026-06-07", "per": "dag"}
    response = await coordinator.get(f"{PAGE}.csv", params=query)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="chatstatistieken_2026-06-01_2026-06-07_dag.csv"'
    )
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header = next(r for r in rows if r and r[0] == "Periode")
    assert header[3:6] == ["Aangeboden", "Beantwoord", "Afgehaakt tijdens het wachten"]
    wednesday = next(r for r in rows if r and r[0] == "2026-06-03")
    assert wednesday[3:6] == ["17", "<10", "<10"]
    wait_p50 = header.index("Wachttijd tot antwoord, mediaan (min)")
    assert next(r for r in rows if r and r[0] == "2026-06-01")[wait_p50] == "3,0"
    assert "<10" in rows[1][0]  # the explanation line
    assert ["Schoolmoeheid en spijbelen", "<10"] in rows

    events = (await db.scalars(select(AuditEvent))).all()
    staff_events = [e for e in events if e.action == "statistics.export"]
    assert len(staff_events) == 1
    event = staff_events[0]
    assert event.object_type == "statistics"
    assert event.object_id == "2026-06-01/2026-06-07/day"
    assert event.actor_id is not None


async def test_viewing_the_page_is_not_an_export(
    coordinator: httpx.AsyncClient, db: AsyncSession
) -> None:
    await coordinator.get(PAGE, headers=HTML)
    events = (
        await db.scalars(select(AuditEvent).where(AuditEvent.action == "statistics.export"))
    ).all()
    assert events == []


# --- who, and bad input -----------------------------------------------------------------------


async def test_a_counsellor_gets_the_dutch_forbidden_page(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db, roles=("counsellor",))
    assert (await login(client)).status_code == 303
    page = await client.get(PAGE, headers=HTML)
    assert page.status_code == 403
    assert "Je hebt geen toegang tot deze pagina." in page.text
    export = await client.get(
        f"{PAGE}.csv", params={"van": "2026-06-01", "tot": "2026-06-07", "per": "dag"}
    )
    assert export.status_code == 403
    assert (
        await db.scalars(select(AuditEvent).where(AuditEvent.action == "statistics.export"))
    ).all() == []


async def test_an_admin_may_see_them_and_an_anonymous_visitor_may_not(
    client: httpx.AsyncClient, db: AsyncSession, clock: None
) -> None:
    anonymous = await client.get(PAGE, headers=HTML, follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)
    await make_staff(db, email="admin@clb.example", roles=("admin",))
    assert (await login(client, "admin@clb.example")).status_code == 303
    assert (await client.get(PAGE, headers=HTML)).status_code == 200


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            {"van": "2026-06-07", "tot": "2026-06-01", "per": "dag"},
            "tot",
            "De einddatum ligt voor de begindatum.",
        ),
        (
            {"van": "2025-06-01", "tot": "2026-06-01", "per": "week"},
            "tot",
            "Kies een periode van hoogstens een jaar.",
        ),
        (
            {"van": "1-6-2026", "tot": "2026-06-01", "per": "week"},
            "van",
            "Vul een geldige datum in, bijvoorbeeld 2026-03-02.",
        ),
        ({"van": "", "tot": "2026-06-01", "per": "week"}, "van", "Vul een datum in."),
        (
            {"van": "2026-06-01", "tot": "2026-06-02", "per": "maand"},
            "per",
            "Kies per dag of per week.",
        ),
    ],
)
async def test_bad_input_is_named_next_to_its_field(
    coordinator: httpx.AsyncClient, query: dict[str, str], field: str, message: str
) -> None:
    page = await coordinator.get(PAGE, params=query, headers=HTML)
    assert page.status_code == 422
    assert f'<p class="field-error" id="st-{field}-error">{message}</p>' in page.text
    assert 'aria-describedby="st-' + field + '-error"' in page.text
    assert "Aanbod, antwoord en duur" not in page.text
    # What was typed stays in the form.
    assert f'value="{query["van"]}"' in page.text
    export = await coordinator.get(f"{PAGE}.csv", params=query, headers=HTML)
    assert export.status_code == 422


async def test_a_full_year_is_allowed(coordinator: httpx.AsyncClient) -> None:
    query = {"van": "2025-06-02", "tot": "2026-06-01", "per": "dag"}
    page = await coordinator.get(PAGE, params=query, headers=HTML)
    assert page.status_code == 200


def test_period_bounds_are_brussels_midnights() -> None:
    p = period("2026-03-29", "2026-03-29")
    assert p.start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert p.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert statistics.one_year_after(date(2024, 2, 29)) == date(2025, 2, 28)
