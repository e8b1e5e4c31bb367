"""The rota's use cases on real PostgreSQL: slots from the opening hours, uncovered slots,
planning refusals, and swaps that only an acceptance carries out, exactly once."""

from __future__ import annotations

import asyncio
from datetime import date, time, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chat.console.models import Duty
from chat.console.repository import set_duty
from chat.opening_hours.schedule import OpeningSchedule, Period
from chat.opening_hours.service import add_exception, replace_weekday_periods
from chat.realtime import presence
from chat.rota import service, swaps
from chat.rota.models import RotaShift, RotaSwap, SwapStatus
from chat.rota.plan_vs_actual import plan_versus_actual
from chat.rota.service import RotaRefused
from chat.rota.slots import slots_of_week
from clb.audit import AuditEvent
from clb.auth.models import StaffAccount
from clb.services import Services
from tests.chat.rota.support import NOW, default_week, key, local, person
from tests.conftest import make_centre

T = TypeVar("T", RotaShift, RotaSwap)
MONDAY = date(2026, 6, 1)
WEEKS = 6
NOT_PLANNABLE = "Alleen actieve chatbegeleiders kunnen op het rooster staan."


@pytest.fixture
async def team(db: AsyncSession) -> dict[str, StaffAccount]:
    await default_week(db)
    north = await make_centre(db, "clb-noord")
    south = await make_centre(db, "clb-zuid")
    return {
        "coco": await person(db, north, "coco@clb.example", "Coco", "coordinator"),
        "an": await person(db, north, "an@clb.example", "An"),
        "bo": await person(db, north, "bo@clb.example", "Bo"),
        "cas": await person(db, north, "cas@clb.example", "Cas"),
        "zoe": await person(db, south, "zoe@clb.example", "Zoë"),
        "zed": await person(db, south, "zed@clb.example", "Zed", "coordinator"),
    }


async def fresh(db: AsyncSession, model: type[T], row_id: int) -> T:
    """The row as the database has it now."""
    row = await db.get(model, row_id, populate_existing=True)
    assert row is not None
    return row


async def rolled_back(db: AsyncSession, team: dict[str, StaffAccount]) -> None:
    """Roll back what a refusal left, and load the accounts again (a rollback expires them)."""
    await db.rollback()
    for account in team.values():
        await db.refresh(account)


async def plan(db: AsyncSession, who: StaffAccount, by: StaffAccount, day: str, at: str) -> int:
    shift = await service.plan(db, by, key(day, at), str(who.id), NOW, WEEKS)
    await db.commit()
    return shift.id


def test_slots_follow_the_weekly_schedule_and_its_exceptions() -> None:
    schedule = OpeningSchedule(
        weekly={0: (Period(time(17), time(21)),), 2: (Period(time(14), time(21)),)},
        exceptions={
            MONDAY: (),  # closed
            MONDAY + timedelta(days=4): (Period(time(10), time(12)), Period(time(12), time(13))),
        },
    )
    slots = slots_of_week(schedule, MONDAY)
    assert [(s.starts_at, s.ends_at) for s in slots] == [
        (local("2026-06-03", "14:00"), local("2026-06-03", "21:00")),
        # Touching periods are one slot: the chat stays open.
        (local("2026-06-05", "10:00"), local("2026-06-05", "13:00")),
    ]


async def test_the_week_shows_every_slot_with_the_uncovered_ones(
    db: AsyncSession, team: dict[str, StaffAccount]
) -> None:
    await add_exception(
        db, date(2026, 6, 4), None, note="Personeelsdag", today=MONDAY, actor_id=None
    )
    await db.commit()
    await plan(db, team["an"], team["coco"], "2026-06-01", "17:00")
    week = await service.week_view(db, team["coco"].centre_id, MONDAY, NOW, wanted=1)
    slots = [s for d in week.days for s in d.slots]
    # Thursday is closed by the exception: Monday, Tuesday, Wednesday remain.
    assert [s.slot.starts_at for s in slots] == [
        local("2026-06-01", "17:00"),
        local("2026-06-02", "17:00"),
        local("2026-06-03", "14:00"),
    ]
    assert [s.uncovered for s in slots] == [False, True, True]
    assert [p.name for p in slots[0].planned] == ["An"]
    # Only the centre's active counsellors can be added, not who is already on.
    assert [p.name for p in slots[0].candidates] == ["Bo", "Cas"]
    assert week.uncovered == 2
    # Another centre's rota is its own: Zuid has every slot uncovered.
    south = await service.week_view(db, team["zoe"].centre_id, MONDAY, NOW, wanted=1)
    assert south.uncovered == 3


async def test_a_shift_the_opening_hours_lost_stays_and_is_shown_outside(
    db: AsyncSession, team: dict[str, StaffAccount]
) -> None:
    await plan(db, team["an"], team["coco"], "2026-06-02", "17:00")
    await replace_weekday_periods(db, 1, [Period(time(18), time(21))], actor_id=None)
    await db.commit()
    week = await service.week_view(db, team["coco"].centre_id, MONDAY, NOW, wanted=1)
    tuesday = next(d for d in week.days if d.day == date(2026, 6, 2))
    assert [s.planned for s in tuesday.slots] == [[]]
    assert [row.name for row in tuesday.outside] == ["An"]
    assert week.outside == 1
    assert await db.scalar(select(func.count()).select_from(RotaShift)) == 1


@pytest.mark.parametrize(
    ("slot", "who", "message"),
    [
        ("2026-06-01T10:00:00+0000", "bo", "Deze beurt past niet (meer) in de openingsuren."),
        ("maandag", "bo", "Kies een beurt uit het rooster."),
        ("2026-05-28T15:00:00+0000", "bo", "Deze beurt ligt in het verleden."),
        ("2026-08-03T15:00:00+0000", "bo", "Je kunt tot 6 weken vooruit plannen."),
        ("2026-06-01T15:00:00+0000", "zoe", "Je kunt alleen mensen van je eigen CLB kiezen."),
        ("2026-06-01T15:00:00+0000", "coco", NOT_PLANNABLE),
        ("2026-06-01T15:00:00+0000", "nobody", "Deze medewerker bestaat niet."),
        ("2026-06-01T15:00:00+0000", "", "Kies een chatbegeleider."),
        ("2026-06-01T15:00:00+0000", "an", "An staat al op deze beurt."),
    ],
)
async def test_planning_refuses_what_cannot_be(
    db: AsyncSession, team: dict[str, StaffAccount], slot: str, who: str, message: str
) -> None:
    await plan(db, team["an"], team["coco"], "2026-06-01", "17:00")
    raw = {"nobody": "8d3c0f1e-0000-4000-8000-000000000000", "": ""}.get(who)
    staff_id = raw if raw is not None else str(team[who].id)
    with pytest.raises(RotaRefused) as refused:
        await service.plan(db, team["coco"], slot, staff_id, NOW, WEEKS)
    assert refused.value.detail_message == message
    await rolled_back(db, team)
    assert await db.scalar(select(func.count()).select_from(RotaShift)) == 1


async def test_a_coordinator_cannot_remove_another_centres_shift(
    db: AsyncSession, team: dict[str, StaffAccount]
) -> None:
    shift_id = await plan(db, team["an"], team["coco"], "2026-06-01", "17:00")
    with pytest.raises(Exception, match="Deze beurt bestaat niet"):
        await service.unplan(db, team["zed"], shift_id, NOW)
    await rolled_back(db, team)
    await service.unplan(db, team["coco"], shift_id, NOW)
    await db.commit()
    assert await db.scalar(select(func.count()).select_from(RotaShift)) == 0
    actions = set(await db.scalars(select(AuditEvent.action)))
    assert {"chat.rota.shift_added", "chat.rota.shift_removed"} <= actions


async def test_take_over_happens_only_when_the_colleague_accepts(
    db: AsyncSession, team: dict[str, StaffAccount]
) -> None:
    shift_id = await plan(db, team["an"], team["coco"], "2026-06-01", "17:00")
    swap = await swaps.ask_take_over(db, team["an"], shift_id, str(team["bo"].id), NOW)
    await db.commit()
    assert (await fresh(db, RotaShift, shift_id)).staff_id == team["an"].id
    swap_id = swap.id
    with pytest.raises(Exception, match="Deze vraag om een beurt te ruilen bestaat niet"):
        await swaps.accept(db, team["cas"], swap_id, NOW)  # not asked
    await rolled_back(db, team)
    assert await swaps.accept(db, team["bo"], swap_id, NOW) == swaps.Outcome.accepted
    await db.commit()
    assert (await fresh(db, RotaShift, shift_id)).staff_id == team["bo"].id
    assert (await fresh(db, RotaSwap, swap_id)).status == SwapStatus.accepted
    with pytest.raises(RotaRefused, match="Op deze vraag is al geantwoord."):
        await swaps.decline(db, team["bo"], swap_id, NOW)


async def test_a_swap_exchanges_both_shifts_and_a_decline_changes_nothing(
    db: AsyncSession, team: dict[str, StaffAccount]
) -> None:
    mine = await plan(db, team["an"], team["coco"], "2026-06-01", "17:00")
    theirs = await plan(db, team["bo"], team["coco"], "2026-06-02", "17:00")
    first = await swaps.ask_swap(db, team["an"], mine, str(theirs), NOW)
    await db.commit()
    await swaps.decline(db, team["bo"], first.id, NOW)
    await db.commit()
    second = await swaps.ask_swap(db, team["an"], mine, str(theirs), NOW)
    await db.commit()
    assert await swaps.accept(db, team["bo"], second.id, NOW) == swaps.Outcome.accepted
    await db.commit()
    assert (await fresh(db, RotaShift, mine)).staff_id == team["bo"].id
    assert (await fresh(db, RotaShift, theirs)).staff_id == team["an"].id


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("an", "Je kunt een beurt niet met jezelf ruilen."),
        ("zoe", "Je kunt alleen ruilen met iemand van je eigen CLB."),
        ("bo", "Bo staat al op deze beurt."),
        ("coco", "Deze collega is geen actieve chatbegeleider."),
        ("x", "Kies een collega."),
    ],
)
async def test_asking_refuses_oneself_other_centres_and_who_is_already_on(
    db: AsyncSession, team: dict[str, StaffAccount], who: str, message: str
) -> None:
    shift_id = await plan(db, team["an"], team["coco"], "2026-06-01", "17:00")
    await plan(db, team["bo"], team["coco"], "2026-06-01", "17:00")
    colleague = "x" if who == "x" else str(team[who].id)
    with pytest.raises(RotaRefused) as refused:
        await swaps.ask_take_over(db, team["an"], shift_id, colleague, NOW)
    assert refused.value.detail_message == message


async def test_two_acceptances_at_once_change_the_rota_once(
    db: AsyncSession, services: Services, team: dict[str, StaffAccount]
) -> None:
    shift_id = await plan(db, team["an"], team["coco"], "2026-06-01", "17:00")
    swap = await swaps.ask_take_over(db, team["an"], shift_id, str(team["bo"].id), NOW)
    await db.commit()
    maker: async_sessionmaker[AsyncSession] = services.sessionmaker
    start = asyncio.Event()

    async def accept() -> str:
        async with maker() as session:
            bo = await session.get(StaffAccount, team["bo"].id)
            assert bo is not None
            await start.wait()
            try:
                outcome = await swaps.accept(session, bo, swap.id, NOW)
            except RotaRefused as refused:
                await session.rollback()
                return refused.detail_message
            await session.commit()
            return outcome.value

    tasks = [asyncio.create_task(accept()) for _ in range(2)]
    await asyncio.sleep(0)
    start.set()
    results = sorted(await asyncio.gather(*tasks))
    assert results == ["Op deze vraag is al geantwoord.", "accepted"]
    events = await db.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "chat.rota.swap_accepted")
    )
    assert len(list(events)) == 1


async def test_an_acceptance_after_the_coordinator_changed_the_shift_moves_nothing(
    db: AsyncSession, team: dict[str, StaffAccount]
) -> None:
    shift_id = await plan(db, team["an"], team["coco"], "2026-06-01", "17:00")
    swap = await swaps.ask_take_over(db, team["an"], shift_id, str(team["bo"].id), NOW)
    await db.commit()
    # Meanwhile the coordinator plans Bo on that slot as well.
    await plan(db, team["bo"], team["coco"], "2026-06-01", "17:00")
    assert await swaps.accept(db, team["bo"], swap.id, NOW) == swaps.Outcome.void
    await db.commit()
    assert (await fresh(db, RotaShift, shift_id)).staff_id == team["an"].id
    assert (await fresh(db, RotaSwap, swap.id)).status == SwapStatus.void


async def test_removing_a_shift_lapses_its_open_request(
    db: AsyncSession, team: dict[str, StaffAccount]
) -> None:
    shift_id = await plan(db, team["an"], team["coco"], "2026-06-01", "17:00")
    swap = await swaps.ask_take_over(db, team["an"], shift_id, str(team["bo"].id), NOW)
    await db.commit()
    await service.unplan(db, team["coco"], shift_id, NOW)
    await db.commit()
    assert (await fresh(db, RotaSwap, swap.id)).status == SwapStatus.void
    with pytest.raises(RotaRefused, match="Op deze vraag is al geantwoord."):
        await swaps.accept(db, team["bo"], swap.id, NOW)


async def test_a_started_shift_cannot_be_passed_on(
    db: AsyncSession, team: dict[str, StaffAccount]
) -> None:
    shift_id = await plan(db, team["an"], team["coco"], "2026-06-01", "17:00")
    later = local("2026-06-01", "17:30")
    with pytest.raises(RotaRefused, match="Deze beurt is al begonnen of voorbij."):
        await swaps.ask_take_over(db, team["an"], shift_id, str(team["bo"].id), later)


async def test_the_dashboard_sets_the_plan_beside_who_is_on_duty(
    db: AsyncSession, services: Services, team: dict[str, StaffAccount]
) -> None:
    await plan(db, team["an"], team["coco"], "2026-06-01", "17:00")
    await plan(db, team["bo"], team["coco"], "2026-06-01", "17:00")
    for who in ("an", "cas", "zoe"):  # Zoë is on duty too, for another centre
        await set_duty(db, team[who].id, Duty.on_duty, NOW)
        await presence.heard_from_counsellor(services.redis, services.keys, team[who].id)
    await db.commit()
    during = local("2026-06-01", "18:00")
    block = await plan_versus_actual(db, services, during, team["coco"])
    assert block["running"] is True
    assert block["slot"] == "maandag 1 juni, 17:00–21:00"
    assert block["planned_present"] == ["An"]
    assert block["planned_absent"] == ["Bo"]
    assert block["present_unplanned"] == ["Cas"]
    # Before the chat opens: the next slot and its plan.
    before = await plan_versus_actual(db, services, NOW, team["coco"])
    assert before["running"] is False
    assert before["planned_next"] == ["An", "Bo"]
