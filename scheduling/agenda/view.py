"""What the agenda pages show of an appointment: plain values in Brussels time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_date

from clb import i18n
from clb.config import Settings
from clb.i18n import gettext as _
from scheduling import labels
from scheduling.agenda.service import AgendaEntry
from scheduling.appointments import video_room
from scheduling.appointments.models import Appointment, Mode
from scheduling.appointments.repository import Details
from scheduling.availability.slots import BRUSSELS
from scheduling.meetings.labels import RELATION_LABELS

DETAIL = "/console/agenda/afspraken/{id}"


def detail_url(appointment: Appointment) -> str:
    return DETAIL.format(id=appointment.id)


def place(appointment: Appointment, details: Details) -> str:
    """Where it happens: the CLB location or the school ("" for phone, video and chat,
    whose mode says it all; a video room is shown on its own, see ``video_view``)."""
    if appointment.mode == Mode.office.value and details.location_name:
        if details.location_address:
            return f"{details.location_name} – {details.location_address}"
        return details.location_name
    if appointment.mode == Mode.school.value:
        return details.school_name
    return ""


def long_day(day: date) -> str:
    """ "maandag 23 november 2026"."""
    return format_date(day, "EEEE d MMMM y", locale=i18n.babel_locale())


def day_heading(day: date) -> str:
    """ "Maandag 23 november 2026": only the first letter raised (English months keep theirs)."""
    text = long_day(day)
    return text[:1].upper() + text[1:]


def short_moment(moment: datetime) -> str:
    """ "ma 23 nov. 10:00" in Brussels time, in the reader's language."""
    local = moment.astimezone(BRUSSELS)
    day = format_date(local.date(), "EEE d MMM", locale=i18n.babel_locale())
    return f"{day} {labels.clock(moment)}"


def video_view(
    settings: Settings, appointment: Appointment, now: datetime
) -> dict[str, str] | None:
    """The video room as the counsellor sees it: its state, when it opens, the platform page
    that sends them into it (never the room's address itself), or what to do without one."""
    room = video_room.room_view(settings, appointment, now)
    if room is None:
        return None
    return {
        "state": room.state,
        "opens_at": room.opens_at,
        "url": detail_url(appointment) + "/video",
        "phone": appointment.phone or "",
        "email": appointment.email or "",
    }


def entry_view(entry: AgendaEntry, settings: Settings, now: datetime) -> dict[str, Any]:
    appointment, details = entry.appointment, entry.details
    return {
        "id": str(appointment.id),
        "url": detail_url(appointment),
        "day": labels.long_date(appointment.starts_at),
        "time": f"{labels.clock(appointment.starts_at)}–{labels.clock(appointment.ends_at)}",
        "type": _(details.type_name),
        "mode": labels.mode_label(appointment.mode),
        "place": place(appointment, details),
        "video": video_view(settings, appointment, now),
        "school": details.school_name,
        "counsellor": details.counsellor_name,
        "first_name": appointment.first_name,
        "email": appointment.email or "",
        "phone": appointment.phone or "",
        "topic": appointment.topic,
        "booker": {
            "relation": RELATION_LABELS.get(appointment.booked_for_relation, ""),
            "name": appointment.booker_name or "",
            "email": appointment.booker_email or "",
            "phone": appointment.booker_phone or "",
        }
        if appointment.booked_for_relation
        else None,
        "status": appointment.status,
        "cancel_reason": appointment.cancel_reason,
        "cancelled_by": appointment.cancelled_by or "",
        "cancelled_at": short_moment(appointment.cancelled_at) if appointment.cancelled_at else "",
        "reminders": [
            {"kind": sent.kind, "channel": sent.channel, "sent": short_moment(sent.sent_at)}
            for sent in entry.notifications
        ],
    }
