"""Dutch words the appointments module shows people (translated through clb.i18n), and
dates written out in full, in Brussels time, in the reader's language."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date, format_time

from clb import i18n
from clb.i18n import gettext as _
from scheduling.appointments.models import Mode
from scheduling.availability.slots import BRUSSELS

MODE_LABELS = {
    Mode.office: "Op het CLB",
    Mode.school: "Op school",
    Mode.phone: "Telefonisch",
    Mode.video: "Videogesprek",
    Mode.chat: "Chat op afspraak",
}

MODE_HINTS = {
    Mode.office: "Je komt naar een vestiging van je CLB.",
    Mode.school: "Je spreekt af op je school.",
    Mode.phone: "De CLB-medewerker belt je op het afgesproken uur.",
    Mode.video: "Je krijgt een link voor een videogesprek.",
    Mode.chat: "Je chat op het afgesproken uur met de CLB-medewerker.",
}
# The video hint where the platform has no video server (video_base_url unset): the
# appointment then goes ahead by phone or the counsellor mails how (video_room.py).
VIDEO_HINT_WITHOUT_SERVER = {
    Mode.video: "Het CLB heeft nog geen videoruimte. De CLB-medewerker belt je of mailt je "
    "hoe jullie elkaar spreken.",
}

# The appointment types seeded by the migration (their names live in the database, in
# Dutch; translations are looked up like every other source string).
SEEDED_TYPE_TEXTS = (
    "Kennismaking",
    "Een eerste gesprek: wie is het CLB en wat kunnen we samen doen?",
    "Gesprek",
    "Een gesprek over een vraag of zorg: school, thuis, gezondheid …",
    "Studiekeuze",
    "Samen nadenken over je volgende stap in het onderwijs.",
)


def mode_label(mode: str) -> str:
    return _(MODE_LABELS[Mode(mode)])


def long_date(moment: datetime) -> str:
    """ "dinsdag 1 december 2026" in Brussels time."""
    return format_date(
        moment.astimezone(BRUSSELS).date(), "EEEE d MMMM y", locale=i18n.babel_locale()
    )


def clock(moment: datetime) -> str:
    return format_time(moment.astimezone(BRUSSELS), "HH:mm", locale=i18n.babel_locale())


def when(starts_at: datetime, ends_at: datetime) -> str:
    """ "dinsdag 1 december 2026, 14:00–14:45"."""
    return f"{long_date(starts_at)}, {clock(starts_at)}–{clock(ends_at)}"


def slot_label(starts_at: datetime) -> str:
    """What a screen reader announces on a slot button: the full date and the time."""
    return _("{day} om {time}").format(day=long_date(starts_at), time=clock(starts_at))
