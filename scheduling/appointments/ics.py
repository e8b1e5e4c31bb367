"""Calendar files (RFC 5545) for appointments: invitations, cancellations and feeds.

Pure functions without database access. Each appointment is one ``VEVENT`` with a stable UID;
the caller raises ``sequence`` on every reschedule or cancellation so calendar clients replace
the earlier version instead of adding a second one (RFC 5546).

Start and end are written in local Belgian time (``TZID=Europe/Brussels``) together with a
``VTIMEZONE`` for the years the events span, so clients show the right wall-clock time also on
the days daylight saving time starts or ends. The one exception: a moment in the second pass
of the repeated autumn hour, which a local time cannot name, is written in UTC. ``DTSTAMP`` is
in UTC. There is no ``VALARM``:
reminders are sent by mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress

TIMEZONE = ZoneInfo("Europe/Brussels")
PRODID = "-//CLB-platform//Afspraken//NL"

_Method = Literal["REQUEST", "CANCEL", "PUBLISH"]


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value.isoformat()}")


def _require_email(name: str, value: str | None) -> None:
    if value is None:
        return
    if "@" not in value or any(char.isspace() or not char.isprintable() for char in value):
        raise ValueError(f"{name} is not a usable e-mail address: {value!r}")


@dataclass(frozen=True)
class CalendarEvent:
    """One appointment as it appears in a calendar.

    Invalid values (naive datetimes, an end not after the start, a negative sequence, an empty
    UID) are refused with ``ValueError`` when the event is made.
    """

    uid: str  # stable per appointment, e.g. "<uuid>@clb-platform"
    sequence: int  # raised by the caller on every reschedule or cancellation
    starts_at: datetime  # aware
    ends_at: datetime  # aware, after starts_at
    summary: str
    description: str  # plain text; may contain newlines and the manage link
    location: str | None
    url: str | None  # manage link
    organizer_name: str  # the centre
    organizer_email: str | None
    attendee_email: str | None
    stamp: datetime  # DTSTAMP, aware
    cancelled: bool = False

    def __post_init__(self) -> None:
        if not self.uid.strip():
            raise ValueError("uid must not be empty")
        if self.sequence < 0:
            raise ValueError(f"sequence must not be negative, got {self.sequence}")
        _require_aware("starts_at", self.starts_at)
        _require_aware("ends_at", self.ends_at)
        _require_aware("stamp", self.stamp)
        if self.ends_at <= self.starts_at:
            raise ValueError(
                f"ends_at ({self.ends_at.isoformat()}) must be after "
                f"starts_at ({self.starts_at.isoformat()})"
            )
        _require_email("organizer_email", self.organizer_email)
        _require_email("attendee_email", self.attendee_email)


def invitation(event: CalendarEvent) -> bytes:
    """An invitation (``METHOD:REQUEST``, ``STATUS:CONFIRMED``) for a new or moved appointment.

    Refuses a cancelled event: send :func:`cancellation` for that.
    """
    if event.cancelled:
        raise ValueError(f"event {event.uid} is cancelled; send a cancellation instead")
    return _serialise(_calendar("REQUEST", [(event, False)]))


def cancellation(event: CalendarEvent) -> bytes:
    """A cancellation (``METHOD:CANCEL``, ``STATUS:CANCELLED``) with the event's UID.

    The caller passes the raised ``sequence``, so clients remove the invitation they hold.
    """
    return _serialise(_calendar("CANCEL", [(event, True)]))


def feed(events: Sequence[CalendarEvent], *, name: str) -> bytes:
    """A subscribable calendar (``METHOD:PUBLISH``) named ``name``.

    Cancelled events stay in the feed with ``STATUS:CANCELLED`` so subscribed clients drop
    them. Each UID may occur once.
    """
    seen: set[str] = set()
    for event in events:
        if event.uid in seen:
            raise ValueError(f"uid {event.uid} occurs more than once in the feed")
        seen.add(event.uid)
    calendar = _calendar("PUBLISH", [(event, event.cancelled) for event in events])
    calendar.add("NAME", name)
    calendar.add("X-WR-CALNAME", name)
    calendar.add("X-WR-TIMEZONE", TIMEZONE.key)
    return _serialise(calendar)


def _calendar(method: _Method, entries: Sequence[tuple[CalendarEvent, bool]]) -> Calendar:
    """A calendar with one ``VEVENT`` per (event, cancelled) entry and the ``VTIMEZONE``."""
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", method)
    for event, cancelled in entries:
        calendar.add_component(_vevent(event, cancelled=cancelled))
    if entries:
        # Whole local calendar years around every start and end keep the VTIMEZONE short
        # (the library's default spans 1970-2038).
        years = [
            moment.astimezone(TIMEZONE).year
            for event, _ in entries
            for moment in (event.starts_at, event.ends_at)
        ]
        calendar.add_missing_timezones(
            first_date=date(min(years), 1, 1), last_date=date(max(years) + 1, 1, 1)
        )
    return calendar


def _local(moment: datetime) -> datetime:
    """``moment`` in Belgian time, or in UTC when that local time is ambiguous.

    In the hour repeated when daylight saving time ends, a local time with ``TZID`` means its
    first occurrence (RFC 5545, 3.3.5); the second one can only be written in UTC.
    """
    local = moment.astimezone(TIMEZONE)
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        return moment.astimezone(UTC)
    return local


def _serialise(calendar: Calendar) -> bytes:
    """The library's serialisation: UTF-8, CRLF line endings, lines folded at 75 octets."""
    data: bytes = calendar.to_ical()
    return data


def _vevent(event: CalendarEvent, *, cancelled: bool) -> Event:
    vevent = Event()
    vevent.add("UID", event.uid)
    vevent.add("SEQUENCE", event.sequence)
    vevent.add("DTSTAMP", event.stamp.astimezone(UTC))
    vevent.add("DTSTART", _local(event.starts_at))
    vevent.add("DTEND", _local(event.ends_at))
    vevent.add("SUMMARY", event.summary)
    if event.description:
        vevent.add("DESCRIPTION", event.description)
    if event.location:
        vevent.add("LOCATION", event.location)
    if event.url:
        vevent.add("URL", event.url)
    vevent.add("STATUS", "CANCELLED" if cancelled else "CONFIRMED")
    vevent.add("TRANSP", "OPAQUE")
    if event.organizer_email is not None:
        organizer = vCalAddress(f"mailto:{event.organizer_email}")
        organizer.params["CN"] = event.organizer_name
        vevent.add("ORGANIZER", organizer)
    if event.attendee_email is not None:
        attendee = vCalAddress(f"mailto:{event.attendee_email}")
        attendee.params["PARTSTAT"] = "ACCEPTED"
        attendee.params["RSVP"] = "FALSE"
        vevent.add("ATTENDEE", attendee)
    return vevent
