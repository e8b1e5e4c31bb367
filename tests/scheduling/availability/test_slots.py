"""The slot function (scheduling.slots) on plain values, without a database.

Every rule that decides whether a moment can be booked is checked here: weekly hours in
Brussels local time on ordinary and on daylight-saving change days, date overrides,
public holidays and closed days, minimum notice in working days, the horizon, the maximum
per day, buffers, and which counsellor gets a moment several of them offer.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from scheduling.availability.slots import (
    BRUSSELS,
    Busy,
    CounsellorCalendar,
    DayHours,
    Duration,
    Slot,
    WeeklyHours,
    add_working_days,
    free_slots,
    is_public_holiday,
    is_working_day,
    merge_by_time,
    windows,
)

A = uuid.UUID(int=1)
B = uuid.UUID(int=2)
OFFICE = uuid.UUID(int=100)
SCHOOL_ROOM = uuid.UUID(int=200)
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
ALL_MODES = frozenset({"office", "school", "phone", "video", "chat"})
# The seeded appointment types: gesprek 45 min + 15 min buffer, kennismaking 30 + 10.
GESPREK = Duration(45, 0, 15)
KENNISMAKING = Duration(30, 0, 10)
QUARTER = timedelta(minutes=15)


def local(day: date, clock: time) -> datetime:
    """A Brussels wall-clock time as an aware datetime (compares equal to its UTC instant)."""
    return datetime.combine(day, clock, tzinfo=BRUSSELS)


def weekly(
    weekday: int,
    start: time = time(9),
    end: time = time(17),
    modes: frozenset[str] = ALL_MODES,
    location: uuid.UUID | None = OFFICE,
) -> WeeklyHours:
    return WeeklyHours(weekday, start, end, modes, location)


def calendar(
    *hours: WeeklyHours,
    counsellor: uuid.UUID = A,
    overrides: tuple[DayHours, ...] = (),
    busy: tuple[Busy, ...] = (),
    booked_per_day: dict[date, int] | None = None,
    min_notice_working_days: int = 0,
    horizon_days: int = 365,
    max_per_day: int = 40,
) -> CounsellorCalendar:
    return CounsellorCalendar(
        counsellor,
        weekly=list(hours),
        overrides=overrides,
        busy=busy,
        booked_per_day=booked_per_day or {},
        min_notice_working_days=min_notice_working_days,
        horizon_days=horizon_days,
        max_per_day=max_per_day,
    )


def slots_on(
    cal: CounsellorCalendar,
    first: date,
    last: date | None = None,
    *,
    duration: Duration = GESPREK,
    mode: str = "office",
    now: datetime | None = None,
    closed: frozenset[date] = frozenset(),
) -> list[Slot]:
    return free_slots(
        cal,
        duration,
        mode,
        now=now or local(first - timedelta(days=30), time(12)),
        first=first,
        last=last or first,
        closed_days=closed,
    )


def local_starts(slots: list[Slot]) -> list[time]:
    return [slot.starts_at.astimezone(BRUSSELS).time() for slot in slots]


def quarters(first: time, last: time) -> list[time]:
    """Every quarter hour from ``first`` to ``last`` inclusive, as wall-clock times."""
    day = date(2000, 1, 1)
    moment, end = datetime.combine(day, first), datetime.combine(day, last)
    result = []
    while moment <= end:
        result.append(moment.time())
        moment += QUARTER
    return result


# --- Weekly hours in local time ------------------------------------------------------------


def test_weekly_hours_expand_per_date_with_their_modes_and_location() -> None:
    cal = calendar(
        weekly(MONDAY, time(9), time(12), frozenset({"office"}), OFFICE),
        weekly(WEDNESDAY, time(13), time(17), frozenset({"phone", "school"}), SCHOOL_ROOM),
    )
    monday, wednesday = date(2026, 11, 30), date(2026, 12, 2)
    week = slots_on(cal, monday, monday + timedelta(days=6))
    # A 45-minute conversation fits from 09:00 up to 11:15 in a 9-12 period.
    assert {slot.day for slot in week} == {monday}
    assert local_starts(week) == quarters(time(9), time(11, 15))
    assert {slot.location_id for slot in week} == {OFFICE}
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=45) for slot in week)

    by_phone = slots_on(cal, monday, monday + timedelta(days=6), mode="phone")
    assert {slot.day for slot in by_phone} == {wednesday}
    assert local_starts(by_phone) == quarters(time(13), time(16, 15))
    assert {(slot.mode, slot.location_id) for slot in by_phone} == {("phone", SCHOOL_ROOM)}
    assert slots_on(cal, monday, monday + timedelta(days=6), mode="video") == []


def test_winter_and_summer_time_put_the_same_local_hours_at_different_instants() -> None:
    cal = calendar(weekly(TUESDAY))
    winter, summer = date(2026, 12, 1), date(2026, 6, 2)
    assert local_starts(slots_on(cal, winter)) == local_starts(slots_on(cal, summer))
    assert slots_on(cal, winter)[0].starts_at == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert slots_on(cal, summer)[0].starts_at == datetime(2026, 6, 2, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change_day", "ten_oclock_utc", "week_before_ten_utc"),
    [
        # Summer time starts: 02:00 → 03:00, 10:00 local is 08:00Z (a week earlier 09:00Z).
        (
            date(2026, 3, 29),
            datetime(2026, 3, 29, 8, tzinfo=UTC),
            datetime(2026, 3, 22, 9, tzinfo=UTC),
        ),
        # Summer time ends: 03:00 → 02:00, 10:00 local is 09:00Z (a week earlier 08:00Z).
        (
            date(2026, 10, 25),
            datetime(2026, 10, 25, 9, tzinfo=UTC),
            datetime(2026, 10, 18, 8, tzinfo=UTC),
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_dst_change_day_has_every_slot_at_its_local_time(
    change_day: date, ten_oclock_utc: datetime, week_before_ten_utc: datetime
) -> None:
    """Cal.com #30021: slots after 13:00 shifted by an hour on a DST change day. Here every
    start of a 9-17 Sunday stays on its local quarter hour, none is missing or doubled."""
    assert change_day.weekday() == SUNDAY
    cal = calendar(weekly(SUNDAY))
    slots = slots_on(cal, change_day)
    # 09:00 … 16:15: 30 starts for a 45-minute conversation ending by 17:00.
    assert len(slots) == 30
    assert local_starts(slots) == quarters(time(9), time(16, 15))
    assert local(change_day, time(10)) == ten_oclock_utc
    assert ten_oclock_utc in {slot.starts_at for slot in slots}
    afternoon = [slot for slot in slots if slot.starts_at >= local(change_day, time(13))]
    assert local_starts(afternoon) == quarters(time(13), time(16, 15))
    assert all(b.starts_at - a.starts_at == QUARTER for a, b in zip(slots, slots[1:], strict=False))
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=45) for slot in slots)
    assert slots[-1].ends_at == local(change_day, time(17))
    # The Sunday before, in the other offset: the same local list, an hour apart in UTC.
    week_before = slots_on(cal, change_day - timedelta(days=7))
    assert local_starts(week_before) == local_starts(slots)
    assert week_before_ten_utc in {slot.starts_at for slot in week_before}
    # 30-minute meetings: 09:00 … 16:30.
    assert len(slots_on(cal, change_day, duration=KENNISMAKING)) == 31


@pytest.mark.parametrize(
    ("change_day", "real_hours"),
    [(date(2026, 3, 29), 2), (date(2026, 10, 25), 4)],
    ids=["spring-forward", "fall-back"],
)
def test_a_night_period_across_the_change_lasts_its_real_length(
    change_day: date, real_hours: int
) -> None:
    """01:00-04:00 local is two real hours in spring and four in autumn; slots step 15 real
    minutes through it, each instant once."""
    night = DayHours(change_day, time(1), time(4), ALL_MODES, None)
    cal = calendar(overrides=(night,))
    slots = slots_on(cal, change_day, duration=KENNISMAKING)
    assert slots[0].starts_at == local(change_day, time(1))
    assert slots[-1].ends_at == local(change_day, time(4))
    assert len(slots) == (real_hours * 60 - 30) // 15 + 1
    starts = [slot.starts_at for slot in slots]
    assert len(set(starts)) == len(starts)
    assert all(b - a == QUARTER for a, b in zip(starts, starts[1:], strict=False))


# --- Overrides, holidays, closed days ------------------------------------------------------


def test_an_override_replaces_the_weekly_hours_of_its_date_only() -> None:
    monday = date(2026, 11, 30)
    afternoon = DayHours(monday, time(13), time(15), frozenset({"office"}), SCHOOL_ROOM)
    cal = calendar(weekly(MONDAY), overrides=(afternoon,))
    assert local_starts(slots_on(cal, monday)) == quarters(time(13), time(14, 15))
    assert {slot.location_id for slot in slots_on(cal, monday)} == {SCHOOL_ROOM}
    assert slots_on(cal, monday, mode="phone") == []  # the override's modes count
    next_monday = monday + timedelta(days=7)
    assert local_starts(slots_on(cal, next_monday)) == quarters(time(9), time(16, 15))


def test_an_override_with_two_periods_gives_both() -> None:
    monday = date(2026, 11, 30)
    cal = calendar(
        weekly(MONDAY),
        overrides=(
            DayHours(monday, time(14), time(15), ALL_MODES, OFFICE),
            DayHours(monday, time(9), time(10), ALL_MODES, OFFICE),
        ),
    )
    assert local_starts(slots_on(cal, monday, duration=KENNISMAKING)) == [
        time(9),
        time(9, 15),
        time(9, 30),
        time(14),
        time(14, 15),
        time(14, 30),
    ]


def test_an_override_without_times_closes_the_day() -> None:
    monday = date(2026, 11, 30)
    cal = calendar(weekly(MONDAY), overrides=(DayHours(monday, None, None, frozenset(), None),))
    assert slots_on(cal, monday) == []
    assert list(windows(cal, monday, monday, frozenset())) == []


def test_an_override_opens_a_day_without_weekly_hours() -> None:
    saturday = date(2026, 12, 5)
    cal = calendar(
        weekly(MONDAY), overrides=(DayHours(saturday, time(10), time(12), ALL_MODES, OFFICE),)
    )
    assert local_starts(slots_on(cal, saturday)) == quarters(time(10), time(11, 15))


def test_public_holidays_and_closed_days_give_no_slots() -> None:
    cal = calendar(*(weekly(day) for day in range(7)))
    christmas, armistice, all_saints = date(2026, 12, 25), date(2026, 11, 11), date(2026, 11, 1)
    for holiday in (christmas, armistice, all_saints, date(2026, 4, 6), date(2026, 5, 14)):
        assert is_public_holiday(holiday)
        assert slots_on(cal, holiday) == [], holiday
    # An override does not open a public holiday either.
    open_anyway = DayHours(christmas, time(9), time(12), ALL_MODES, OFFICE)
    assert slots_on(calendar(weekly(FRIDAY), overrides=(open_anyway,)), christmas) == []
    # The days around a holiday are ordinary.
    assert len(slots_on(cal, date(2026, 12, 24))) == 30
    assert len(slots_on(cal, date(2026, 11, 12))) == 30
    # A closed day (school holidays, a closure) of the centre.
    closed = frozenset({date(2026, 12, 22), date(2026, 12, 23)})
    week = slots_on(cal, date(2026, 12, 21), date(2026, 12, 24), closed=closed)
    assert {slot.day for slot in week} == {date(2026, 12, 21), date(2026, 12, 24)}


# --- Minimum notice, horizon, maximum per day ----------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Friday + 1 working day = Monday, same local time.
        (local(date(2026, 11, 27), time(15)), 1, local(date(2026, 11, 30), time(15))),
        # Friday before Easter Monday (2026-04-06): Tuesday.
        (local(date(2026, 4, 3), time(15)), 1, local(date(2026, 4, 7), time(15))),
        (local(date(2026, 4, 3), time(15)), 2, local(date(2026, 4, 8), time(15))),
        # Tuesday + 1 with Armistice Day (Wednesday 11 November) in between: Thursday.
        (local(date(2026, 11, 10), time(9, 30)), 1, local(date(2026, 11, 12), time(9, 30))),
        # Christmas on a Friday, then the weekend.
        (local(date(2026, 12, 24), time(10)), 2, local(date(2026, 12, 29), time(10))),
        # From a Saturday: Monday is the first working day.
        (local(date(2026, 11, 28), time(11)), 1, local(date(2026, 11, 30), time(11))),
        # Across the spring DST weekend: 15:00 stays 15:00 (14:00Z → 13:00Z).
        (datetime(2026, 3, 27, 14, tzinfo=UTC), 1, datetime(2026, 3, 30, 13, tzinfo=UTC)),
        # No notice: the moment itself.
        (datetime(2026, 11, 28, 10, 7, tzinfo=UTC), 0, datetime(2026, 11, 28, 10, 7, tzinfo=UTC)),
    ],
)
def test_add_working_days_skips_weekends_and_public_holidays(
    start: datetime, days: int, expected: datetime
) -> None:
    moved = add_working_days(start, days)
    assert moved == expected
    assert moved.tzinfo is not None
    if days:
        assert is_working_day(moved.astimezone(BRUSSELS).date())


def test_minimum_notice_counts_working_days_across_a_weekend_and_a_holiday() -> None:
    """Booked on Good Friday 15:00 with one working day's notice: not on Easter Monday,
    on Tuesday only from 15:00, on Wednesday all day."""
    cal = calendar(*(weekly(day) for day in range(5)), min_notice_working_days=1)
    now = local(date(2026, 4, 3), time(15))
    slots = slots_on(cal, date(2026, 4, 3), date(2026, 4, 8), now=now)
    by_day: dict[date, list[time]] = {}
    for slot in slots:
        by_day.setdefault(slot.day, []).append(slot.starts_at.astimezone(BRUSSELS).time())
    assert sorted(by_day) == [date(2026, 4, 7), date(2026, 4, 8)]
    assert by_day[date(2026, 4, 7)] == quarters(time(15), time(16, 15))
    assert by_day[date(2026, 4, 8)] == quarters(time(9), time(16, 15))


def test_without_notice_a_slot_must_still_start_after_now() -> None:
    monday = date(2026, 11, 30)
    cal = calendar(weekly(MONDAY))
    slots = slots_on(cal, monday, now=local(monday, time(11, 5)))
    assert local_starts(slots)[0] == time(11, 15)


def test_horizon_ends_the_offer() -> None:
    cal = calendar(*(weekly(day) for day in range(7)), horizon_days=7)
    now = local(date(2026, 11, 30), time(10))
    slots = slots_on(cal, date(2026, 11, 30), date(2026, 12, 20), now=now)
    assert max(slot.day for slot in slots) == date(2026, 12, 7)
    assert slots_on(cal, date(2026, 12, 8), date(2026, 12, 20), now=now) == []


def test_maximum_per_day_closes_a_full_day_only() -> None:
    monday, tuesday = date(2026, 11, 30), date(2026, 12, 1)
    full = calendar(weekly(MONDAY), weekly(TUESDAY), max_per_day=6, booked_per_day={monday: 6})
    assert {slot.day for slot in slots_on(full, monday, tuesday)} == {tuesday}
    almost = calendar(weekly(MONDAY), weekly(TUESDAY), max_per_day=6, booked_per_day={monday: 5})
    assert {slot.day for slot in slots_on(almost, monday, tuesday)} == {monday, tuesday}


# --- Buffers -------------------------------------------------------------------------------


def test_buffer_after_keeps_the_next_slot_away() -> None:
    monday = date(2026, 11, 30)
    # A booked gesprek at 10:00 blocks 10:00-11:00 (45 min + 15 min buffer).
    booked = Busy(local(monday, time(10)), local(monday, time(11)))
    cal = calendar(weekly(MONDAY), busy=(booked,))
    gesprek = local_starts(slots_on(cal, monday))
    # 09:00 ends (with its own buffer) exactly at 10:00: allowed; 09:15 … 10:45 are not.
    assert time(9) in gesprek
    assert not set(quarters(time(9, 15), time(10, 45))) & set(gesprek)
    assert time(11) in gesprek
    kennismaking = local_starts(slots_on(cal, monday, duration=KENNISMAKING))
    # 30 min + 10 min buffer: 09:15 is blocked until 09:55, 09:30 until 10:10.
    assert time(9, 15) in kennismaking and time(9, 30) not in kennismaking
    assert time(11) in kennismaking and time(10, 45) not in kennismaking


def test_buffer_before_keeps_the_slot_after_a_booking_away() -> None:
    monday = date(2026, 11, 30)
    booked = Busy(local(monday, time(10)), local(monday, time(11)))
    cal = calendar(weekly(MONDAY), busy=(booked,))
    starts = local_starts(slots_on(cal, monday, duration=Duration(30, 15, 0)))
    # 11:00 would need 10:45-11:00 free before it.
    assert time(11) not in starts and time(11, 15) in starts
    # 09:30-10:00 ends where the booking's blocked time starts.
    assert time(9, 30) in starts and time(9, 45) not in starts


def test_a_busy_time_of_another_day_or_a_cancelled_one_is_not_passed_in() -> None:
    """The calendar only lists what blocks: an empty day offers everything."""
    monday = date(2026, 11, 30)
    sunday = Busy(local(monday, time(0)) - timedelta(hours=2), local(monday, time(0)))
    assert len(slots_on(calendar(weekly(MONDAY), busy=(sunday,)), monday)) == 30


# --- Several counsellors -------------------------------------------------------------------


def _slot(counsellor: uuid.UUID, start: datetime, location: uuid.UUID | None = OFFICE) -> Slot:
    return Slot(start, start + timedelta(minutes=45), counsellor, "office", location)


def test_merge_by_time_gives_a_moment_to_the_least_loaded_counsellor() -> None:
    day = date(2026, 11, 30)
    ten, eleven = local(day, time(10)), local(day, time(11))
    slots = [_slot(A, ten), _slot(B, ten), _slot(A, eleven), _slot(B, eleven)]
    merged = merge_by_time(slots, {(A, day): 3, (B, day): 1})
    assert [(slot.starts_at, slot.counsellor_id) for slot in merged] == [(ten, B), (eleven, B)]
    merged = merge_by_time(slots, {(A, day): 0, (B, day): 1})
    assert {slot.counsellor_id for slot in merged} == {A}


def test_merge_by_time_breaks_ties_by_id_whatever_the_order() -> None:
    day = date(2026, 11, 30)
    counsellors = [uuid.UUID(int=n) for n in (7, 3, 9, 5)]
    slots = [_slot(c, local(day, time(9)) + QUARTER * q) for c in counsellors for q in range(8)]
    load = {(counsellors[2], day): 0, (counsellors[1], day): 2}
    expected = merge_by_time(slots, load)
    # Least loaded: 7, 9 and 5 have 0 appointments; the smallest id of those is 5.
    assert {slot.counsellor_id for slot in expected} == {uuid.UUID(int=5)}
    assert len(expected) == 8
    shuffler = random.Random(20261124)
    for _ in range(20):
        shuffler.shuffle(slots)
        assert merge_by_time(slots, load) == expected


def test_merge_by_time_keeps_one_offer_per_place() -> None:
    day = date(2026, 11, 30)
    ten = local(day, time(10))
    merged = merge_by_time([_slot(A, ten, OFFICE), _slot(B, ten, SCHOOL_ROOM)], {})
    assert {(slot.counsellor_id, slot.location_id) for slot in merged} == {
        (A, OFFICE),
        (B, SCHOOL_ROOM),
    }
