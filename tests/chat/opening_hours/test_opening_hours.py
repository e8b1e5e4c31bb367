"""Opening-hours logic: Brussels wall-clock schedules turned into instants, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from chat.opening_hours.schedule import (
    BRUSSELS,
    DEFAULT_WEEKLY_SCHEDULE,
    OpeningSchedule,
    Period,
)

DEFAULT = OpeningSchedule(weekly=DEFAULT_WEEKLY_SCHEDULE)


def local(day: str, clock: str) -> datetime:
    """An instant given as Brussels date and wall-clock time (first occurrence in a fold)."""
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=BRUSSELS)


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def with_exception(day: str, *periods: Period) -> OpeningSchedule:
    """The default week plus one date that differs (no periods: closed all day)."""
    exceptions = {date.fromisoformat(day): periods}
    return OpeningSchedule(weekly=DEFAULT_WEEKLY_SCHEDULE, exceptions=exceptions)


def period(opens: str, closes: str) -> Period:
    return Period(time.fromisoformat(opens), time.fromisoformat(closes))


# --- the default week -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "clock", "expected"),
    [
        ("2026-06-01", "16:59", False),  # Monday
        ("2026-06-01", "17:00", True),
        ("2026-06-01", "20:59", True),
        ("2026-06-01", "21:00", False),
        ("2026-06-03", "14:00", True),  # Wednesday opens earlier
        ("2026-06-03", "13:59", False),
        ("2026-06-04", "18:00", True),  # Thursday
        ("2026-06-05", "18:00", False),  # Friday
        ("2026-06-06", "18:00", False),  # Saturday
    ],
)
def test_default_week(day: str, clock: str, expected: bool) -> None:
    assert DEFAULT.is_open(local(day, clock)) is expected


def test_answers_are_aware_and_in_brussels_time() -> None:
    closes = DEFAULT.current_period_closes_at(local("2026-06-01", "18:00"))
    assert closes == local("2026-06-01", "21:00")
    assert closes is not None and closes.utcoffset() == timedelta(hours=2)
    assert closes.tzinfo == BRUSSELS


def test_any_timezone_is_accepted_for_now() -> None:
    # 16:30 UTC on a summer Monday is 18:30 in Brussels.
    assert DEFAULT.is_open(utc("2026-06-01T16:30:00"))
    assert not DEFAULT.is_open(utc("2026-06-01T19:30:00"))


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        DEFAULT.is_open(datetime(2026, 6, 1, 18, 0))  # noqa: DTZ001


# --- intake stop -------------------------------------------------------------------------


def test_intake_stops_fifteen_minutes_before_closing() -> None:
    assert DEFAULT.intake_open(local("2026-06-01", "20:44"), 15)
    assert not DEFAULT.intake_open(local("2026-06-01", "20:45"), 15)
    # Running chats may finish: the chat itself is still open.
    assert DEFAULT.is_open(local("2026-06-01", "20:50"))
    assert not DEFAULT.intake_open(local("2026-06-01", "16:00"), 15)


def test_intake_stop_is_configurable() -> None:
    assert not DEFAULT.intake_open(local("2026-06-01", "20:30"), 30)
    assert DEFAULT.intake_open(local("2026-06-01", "20:59"), 0)


def test_status_bundles_the_answers() -> None:
    status = DEFAULT.status(local("2026-06-01", "20:50"), 15)
    assert status.open and not status.intake_open
    assert status.closes_at == local("2026-06-01", "21:00")
    assert status.intake_closes_at == local("2026-06-01", "20:45")
    # While open, the next opening is the one after this period.
    assert status.next_opening == local("2026-06-02", "17:00")


def test_touching_periods_count_as_one() -> None:
    schedule = OpeningSchedule(weekly={0: (period("14:00", "17:00"), period("17:00", "21:00"))})
    now = local("2026-06-01", "16:50")
    assert schedule.current_period_closes_at(now) == local("2026-06-01", "21:00")
    assert schedule.intake_open(now, 15)
    assert schedule.next_opening(now) == local("2026-06-08", "14:00")


# --- exceptions --------------------------------------------------------------------------


def test_closed_day() -> None:
    schedule = with_exception("2026-06-01")
    assert not schedule.is_open(local("2026-06-01", "18:00"))
    assert schedule.current_period_closes_at(local("2026-06-01", "18:00")) is None
    assert schedule.next_opening(local("2026-06-01", "12:00")) == local("2026-06-02", "17:00")


def test_extra_opening_on_a_saturday() -> None:
    schedule = with_exception("2026-06-06", period("10:00", "12:00"))
    assert schedule.is_open(local("2026-06-06", "11:00"))
    assert schedule.intake_open(local("2026-06-06", "11:44"), 15)
    assert not schedule.intake_open(local("2026-06-06", "11:45"), 15)
    assert schedule.current_period_closes_at(local("2026-06-06", "11:00")) == local(
        "2026-06-06", "12:00"
    )
    # From Thursday evening: next is the Saturday, not Monday.
    assert schedule.next_opening(local("2026-06-04", "21:30")) == local("2026-06-06", "10:00")


def test_special_hours_replace_the_weekly_ones() -> None:
    schedule = with_exception("2026-06-01", period("10:00", "12:00"))
    assert schedule.is_open(local("2026-06-01", "11:00"))
    assert not schedule.is_open(local("2026-06-01", "18:00"))


def test_next_opening_across_the_weekend_and_a_closed_day() -> None:
    schedule = with_exception("2026-06-08")  # the Monday after
    assert DEFAULT.next_opening(local("2026-06-04", "21:30")) == local("2026-06-08", "17:00")
    assert schedule.next_opening(local("2026-06-04", "21:30")) == local("2026-06-09", "17:00")


def test_next_opening_a_week_later() -> None:
    schedule = OpeningSchedule(weekly={2: (period("14:00", "21:00"),)})
    assert schedule.next_opening(local("2026-06-03", "21:00")) == local("2026-06-10", "14:00")
    assert schedule.next_opening(local("2026-06-03", "13:00")) == local("2026-06-03", "14:00")


def test_next_opening_is_none_when_nothing_is_planned() -> None:
    assert OpeningSchedule().next_opening(local("2026-06-01", "12:00")) is None
    only_later = OpeningSchedule(exceptions={date(2026, 12, 1): (period("17:00", "21:00"),)})
    assert only_later.next_opening(local("2026-06-01", "12:00")) is None  # beyond 60 days
    assert only_later.next_opening(local("2026-11-01", "12:00")) == local("2026-12-01", "17:00")


# --- daylight saving time (Europe/Brussels, 2026) ----------------------------------------


def test_spring_forward_sunday_29_march() -> None:
    schedule = with_exception("2026-03-29", period("17:00", "21:00"))
    # CEST (+02:00) starts at 02:00 that night: 17:00 local is 15:00 UTC.
    assert not schedule.is_open(utc("2026-03-29T14:59:00"))
    assert schedule.is_open(utc("2026-03-29T15:00:00"))
    closes = schedule.current_period_closes_at(utc("2026-03-29T16:00:00"))
    assert closes == utc("2026-03-29T19:00:00")
    assert closes is not None and closes.isoformat() == "2026-03-29T21:00:00+02:00"
    assert schedule.intake_open(utc("2026-03-29T18:44:00"), 15)
    assert not schedule.intake_open(utc("2026-03-29T18:45:00"), 15)
    # From the Saturday before (still CET) to Monday (CEST).
    next_opening = DEFAULT.next_opening(local("2026-03-28", "22:00"))
    assert next_opening == utc("2026-03-30T15:00:00")
    assert next_opening is not None and next_opening.isoformat() == "2026-03-30T17:00:00+02:00"


def test_a_night_period_on_the_spring_forward_day_is_an_hour_shorter() -> None:
    schedule = with_exception("2026-03-29", period("01:00", "04:00"))
    start = schedule.next_opening(local("2026-03-28", "23:00"))
    assert start == utc("2026-03-29T00:00:00")
    assert schedule.current_period_closes_at(utc("2026-03-29T01:30:00")) == utc(
        "2026-03-29T02:00:00"
    )


def test_a_period_starting_in_the_skipped_hour_starts_at_three() -> None:
    schedule = with_exception("2026-03-29", period("02:30", "05:00"))
    assert schedule.next_opening(local("2026-03-28", "23:00")) == utc("2026-03-29T01:30:00")


def test_fall_back_sunday_25_october() -> None:
    schedule = with_exception("2026-10-25", period("17:00", "21:00"))
    # CET (+01:00) again from 03:00 that night: 17:00 local is 16:00 UTC.
    assert not schedule.is_open(utc("2026-10-25T15:59:00"))
    assert schedule.is_open(utc("2026-10-25T16:00:00"))
    closes = schedule.current_period_closes_at(utc("2026-10-25T17:00:00"))
    assert closes == utc("2026-10-25T20:00:00")
    assert closes is not None and closes.isoformat() == "2026-10-25T21:00:00+01:00"
    assert not schedule.intake_open(utc("2026-10-25T19:45:00"), 15)
    next_opening = DEFAULT.next_opening(local("2026-10-24", "22:00"))
    assert next_opening == utc("2026-10-26T16:00:00")
    assert next_opening is not None and next_opening.isoformat() == "2026-10-26T17:00:00+01:00"


def test_a_night_period_on_the_fall_back_day_is_an_hour_longer() -> None:
    schedule = with_exception("2026-10-25", period("01:00", "04:00"))
    # 01:00 CEST = 23:00 UTC the day before; 04:00 CET = 03:00 UTC: four real hours.
    assert schedule.is_open(utc("2026-10-24T23:00:00"))
    closes = schedule.current_period_closes_at(utc("2026-10-25T01:30:00"))
    assert closes == utc("2026-10-25T03:00:00")
    # In the repeated hour (02:30 CEST, then 02:30 CET) it is open both times.
    assert schedule.is_open(utc("2026-10-25T00:30:00"))
    assert schedule.is_open(utc("2026-10-25T01:30:00"))
