"""Calendar files for appointments, read back with icalendar's own parser (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar, Component, Event

from scheduling.appointments.ics import TIMEZONE, CalendarEvent, cancellation, feed, invitation

STAMP = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

DESCRIPTION = (
    "Beste ouder,\n"
    "Uw afspraak met het CLB is bevestigd; u hoeft niets mee te brengen.\n"
    "Coördinator: Zoë Vermeeën – ‘één’ gesprek, 45 minuten.\n"
    "Wijzigen of annuleren: https://clb.example/afspraak/beheer/3f7c2a9e-1b4d-4c8e-9a6f-2d5e8b1c0a7f"
)
LOCATION = 'CLB Gent, Sint-Pietersnieuwstraat 1; 2de verdieping, lokaal "Eén" \\ ingang B'


def make_event(**changes: Any) -> CalendarEvent:
    values: dict[str, Any] = {
        "uid": "3f7c2a9e-1b4d-4c8e-9a6f-2d5e8b1c0a7f@clb-platform",
        "sequence": 0,
        "starts_at": datetime(2026, 5, 12, 8, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 5, 12, 8, 45, tzinfo=UTC),
        "summary": "Afspraak met het CLB (gesprek)",
        "description": DESCRIPTION,
        "location": LOCATION,
        "url": "https://clb.example/afspraak/beheer/3f7c2a9e-1b4d-4c8e-9a6f-2d5e8b1c0a7f",
        "organizer_name": "CLB Gent, vzw",
        "organizer_email": "afspraken@clb-gent.example",
        "attendee_email": "ouder@example.be",
        "stamp": STAMP,
    }
    values.update(changes)
    return CalendarEvent(**values)


def parse(data: bytes) -> Calendar:
    calendar = Calendar.from_ical(data)
    assert isinstance(calendar, Calendar)
    return calendar


def only_event(calendar: Calendar) -> Event:
    events = calendar.events
    assert len(events) == 1
    return events[0]


def instant(component: Component, name: str) -> datetime:
    value = component.decoded(name)
    assert isinstance(value, datetime)
    assert value.tzinfo is not None
    return value.astimezone(UTC)


def assert_local_time(component: Component, name: str, expected: datetime) -> None:
    """The property names Europe/Brussels, and that is the expected instant."""
    assert component[name].params["TZID"] == "Europe/Brussels"
    assert instant(component, name) == expected


def assert_wire_format(data: bytes) -> None:
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)
    data.decode("utf-8")


def vtimezone_instant(calendar: Calendar, wall_clock: datetime) -> datetime:
    """The instant of ``wall_clock``'s Brussels reading, by the embedded VTIMEZONE alone.

    Its own tzinfo is set aside, so this does not use the tz database.
    """
    assert wall_clock.tzinfo is TIMEZONE
    timezones = calendar.timezones
    assert [timezone.tz_name for timezone in timezones] == ["Europe/Brussels"]
    tzinfo = timezones[0].to_tz(lookup_tzid=False)
    return wall_clock.replace(tzinfo=tzinfo).astimezone(UTC)


def test_invitation_is_a_confirmed_request_with_the_appointment() -> None:
    event = make_event()
    data = invitation(event)
    assert_wire_format(data)
    calendar = parse(data)

    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == "-//CLB-platform//Afspraken//NL"
    assert calendar["CALSCALE"] == "GREGORIAN"
    assert calendar["METHOD"] == "REQUEST"
    vevent = only_event(calendar)
    assert vevent["UID"] == event.uid
    assert vevent.decoded("SEQUENCE") == 0
    assert vevent["STATUS"] == "CONFIRMED"
    assert vevent["SUMMARY"] == "Afspraak met het CLB (gesprek)"
    assert vevent["URL"] == event.url
    assert_local_time(vevent, "DTSTART", event.starts_at)
    assert_local_time(vevent, "DTEND", event.ends_at)
    assert b"DTSTART;TZID=Europe/Brussels:20260512T100000\r\n" in data
    assert b"DTSTAMP:20260301T120000Z\r\n" in data
    assert instant(vevent, "DTSTAMP") == STAMP
    assert not vevent.walk("VALARM")

    organizer = vevent["ORGANIZER"]
    assert str(organizer) == "mailto:afspraken@clb-gent.example"
    assert organizer.params["CN"] == "CLB Gent, vzw"
    attendee = vevent["ATTENDEE"]
    assert str(attendee) == "mailto:ouder@example.be"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"
    assert attendee.params["RSVP"] == "FALSE"


def test_vtimezone_for_brussels_comes_before_the_event() -> None:
    calendar = parse(invitation(make_event()))
    assert [component.name for component in calendar.subcomponents] == ["VTIMEZONE", "VEVENT"]
    assert calendar.timezones[0].tz_name == "Europe/Brussels"
    assert calendar.get_missing_tzids() == set()


@pytest.mark.parametrize(
    ("wall_clock", "utc"),
    [
        # spring forward: 02:00 CET becomes 03:00 CEST, so 10:00 is UTC+2
        (datetime(2026, 3, 29, 10, 0, tzinfo=TIMEZONE), datetime(2026, 3, 29, 8, 0, tzinfo=UTC)),
        # fall back: 03:00 CEST becomes 02:00 CET, so 10:00 is UTC+1
        (datetime(2026, 10, 25, 10, 0, tzinfo=TIMEZONE), datetime(2026, 10, 25, 9, 0, tzinfo=UTC)),
        # the days before, for contrast
        (datetime(2026, 3, 28, 10, 0, tzinfo=TIMEZONE), datetime(2026, 3, 28, 9, 0, tzinfo=UTC)),
        (datetime(2026, 10, 24, 10, 0, tzinfo=TIMEZONE), datetime(2026, 10, 24, 8, 0, tzinfo=UTC)),
    ],
)
def test_local_time_on_daylight_saving_days(wall_clock: datetime, utc: datetime) -> None:
    starts_at = wall_clock.astimezone(UTC)
    assert starts_at == utc
    event = make_event(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=45))

    data = invitation(event)
    calendar = parse(data)
    vevent = only_event(calendar)

    assert_local_time(vevent, "DTSTART", utc)
    assert_local_time(vevent, "DTEND", utc + timedelta(minutes=45))
    assert f"DTSTART;TZID=Europe/Brussels:{wall_clock:%Y%m%dT%H%M%S}\r\n".encode() in data
    # A client that trusts only the embedded VTIMEZONE lands on the same instants.
    assert vtimezone_instant(calendar, wall_clock) == utc
    assert vtimezone_instant(calendar, wall_clock + timedelta(minutes=45)) == utc + timedelta(
        minutes=45
    )


def test_second_pass_of_the_repeated_autumn_hour_is_written_in_utc() -> None:
    # 02:30 happens twice on 2026-10-25; with a TZID it would mean the first (00:30Z).
    first = make_event(
        starts_at=datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        ends_at=datetime(2026, 10, 25, 0, 45, tzinfo=UTC),
    )
    second = make_event(
        starts_at=datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        ends_at=datetime(2026, 10, 25, 2, 30, tzinfo=UTC),
    )

    first_event = only_event(parse(invitation(first)))
    assert_local_time(first_event, "DTSTART", first.starts_at)

    second_event = only_event(parse(invitation(second)))
    assert "TZID" not in second_event["DTSTART"].params
    assert instant(second_event, "DTSTART") == second.starts_at
    assert_local_time(second_event, "DTEND", second.ends_at)


def test_cancellation_keeps_the_uid_and_carries_the_higher_sequence() -> None:
    booked = make_event(sequence=1)
    cancelled = replace(booked, sequence=2, cancelled=True, stamp=STAMP + timedelta(days=3))

    original = only_event(parse(invitation(booked)))
    calendar = parse(cancellation(cancelled))
    assert calendar["METHOD"] == "CANCEL"
    vevent = only_event(calendar)

    assert vevent["UID"] == original["UID"] == booked.uid
    assert vevent.decoded("SEQUENCE") == 2 > original.decoded("SEQUENCE")
    assert vevent["STATUS"] == "CANCELLED"
    assert_local_time(vevent, "DTSTART", booked.starts_at)
    assert instant(vevent, "DTSTAMP") == STAMP + timedelta(days=3)
    assert str(vevent["ORGANIZER"]) == "mailto:afspraken@clb-gent.example"
    assert str(vevent["ATTENDEE"]) == "mailto:ouder@example.be"
    assert [timezone.tz_name for timezone in calendar.timezones] == ["Europe/Brussels"]


def test_invitation_refuses_a_cancelled_event() -> None:
    with pytest.raises(ValueError, match="cancellation"):
        invitation(make_event(cancelled=True))


def test_dutch_text_round_trips() -> None:
    data = invitation(make_event())
    assert_wire_format(data)
    vevent = only_event(parse(data))
    assert str(vevent["DESCRIPTION"]) == DESCRIPTION
    assert str(vevent["LOCATION"]) == LOCATION
    assert str(vevent["ORGANIZER"].params["CN"]) == "CLB Gent, vzw"
    # escaped on the wire, not raw
    assert b"Beste ouder\\,\\nUw afspraak" in data


def test_optional_fields_are_left_out() -> None:
    event = make_event(
        description="",
        location=None,
        url=None,
        organizer_email=None,
        attendee_email=None,
    )
    vevent = only_event(parse(invitation(event)))
    for name in ("DESCRIPTION", "LOCATION", "URL", "ORGANIZER", "ATTENDEE"):
        assert name not in vevent


def test_feed_publishes_every_event_including_cancelled_ones() -> None:
    spring = make_event(
        uid="a@clb-platform",
        starts_at=datetime(2026, 3, 29, 8, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 29, 8, 30, tzinfo=UTC),
    )
    autumn = make_event(
        uid="b@clb-platform",
        sequence=3,
        starts_at=datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
        ends_at=datetime(2026, 10, 25, 10, 0, tzinfo=UTC),
        cancelled=True,
    )
    next_year = make_event(
        uid="c@clb-platform",
        starts_at=datetime(2027, 3, 28, 8, 0, tzinfo=UTC),
        ends_at=datetime(2027, 3, 28, 8, 45, tzinfo=UTC),
    )

    data = feed([spring, autumn, next_year], name="Afspraken CLB Gent")
    assert_wire_format(data)
    calendar = parse(data)

    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["X-WR-CALNAME"] == "Afspraken CLB Gent"
    assert calendar["X-WR-TIMEZONE"] == "Europe/Brussels"
    by_uid = {str(vevent["UID"]): vevent for vevent in calendar.events}
    assert list(by_uid) == ["a@clb-platform", "b@clb-platform", "c@clb-platform"]
    assert by_uid["a@clb-platform"]["STATUS"] == "CONFIRMED"
    assert by_uid["b@clb-platform"]["STATUS"] == "CANCELLED"
    assert by_uid["b@clb-platform"].decoded("SEQUENCE") == 3
    assert by_uid["c@clb-platform"]["STATUS"] == "CONFIRMED"
    for event in (spring, autumn, next_year):
        assert_local_time(by_uid[event.uid], "DTSTART", event.starts_at)
        assert_local_time(by_uid[event.uid], "DTEND", event.ends_at)
    assert not calendar.walk("VALARM")

    # One VTIMEZONE holds for both years, daylight saving days included.
    assert (
        vtimezone_instant(calendar, datetime(2026, 3, 29, 10, 0, tzinfo=TIMEZONE))
        == spring.starts_at
    )
    assert (
        vtimezone_instant(calendar, datetime(2026, 10, 25, 10, 0, tzinfo=TIMEZONE))
        == autumn.starts_at
    )
    assert (
        vtimezone_instant(calendar, datetime(2027, 3, 28, 10, 0, tzinfo=TIMEZONE))
        == next_year.starts_at
    )


def test_empty_feed_is_a_valid_calendar() -> None:
    calendar = parse(feed([], name="Afspraken"))
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["X-WR-CALNAME"] == "Afspraken"
    assert calendar.events == []
    assert calendar.timezones == []


def test_feed_refuses_a_uid_twice() -> None:
    event = make_event()
    with pytest.raises(ValueError, match="more than once"):
        feed([event, replace(event, sequence=1)], name="Afspraken")


@pytest.mark.parametrize("field", ["starts_at", "ends_at", "stamp"])
def test_naive_datetimes_are_refused(field: str) -> None:
    event = make_event()
    naive = getattr(event, field).replace(tzinfo=None)
    with pytest.raises(ValueError, match=f"{field} must be an aware datetime"):
        make_event(**{field: naive})


@pytest.mark.parametrize("duration", [timedelta(0), timedelta(minutes=-30)])
def test_end_must_be_after_start(duration: timedelta) -> None:
    starts_at = datetime(2026, 5, 12, 8, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="must be after"):
        make_event(starts_at=starts_at, ends_at=starts_at + duration)


@pytest.mark.parametrize(
    "changes",
    [
        {"uid": " "},
        {"sequence": -1},
        {"organizer_email": "not an address"},
        {"attendee_email": "ouder@example.be\r\nX-EVIL:1"},
    ],
)
def test_other_invalid_values_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        make_event(**changes)
