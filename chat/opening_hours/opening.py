"""The chat's hours as someone outside the chat tells them: whether a new chat can start now,
until when, and when it opens next ("Nu open tot 21:00", "Gesloten · opent morgen om 17:00"),
for the school's badge and poster and for "Mijn CLB"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date
from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours.schedule import BRUSSELS, Period
from chat.opening_hours.service import load_schedule
from clb import i18n
from clb.config import Settings
from clb.i18n import gettext as _

WEEKDAY_ONLY_DAYS = 6  # further ahead, the next opening names the date too


@dataclass(frozen=True)
class ChatOpening:
    """The chat's hours as someone outside it tells them. ``can_start``: a new chat may start
    now (open, and not in the last minutes before closing, when only running chats go on).
    Times are Brussels wall-clock times; ``closes_at`` is None when closed, or always open."""

    can_start: bool
    closes_at: datetime | None
    next_opening: datetime | None
    weekly: Mapping[int, tuple[Period, ...]]  # the usual week, 0 = Monday


async def chat_opening(session: AsyncSession, settings: Settings, now: datetime) -> ChatOpening:
    """Now, by the same rule the chat's start applies (``CLB_CHAT_ALWAYS_OPEN`` included)."""
    schedule = await load_schedule(session, now)
    status = schedule.status(now, settings.chat_intake_stop_minutes)
    if settings.chat_always_open:
        return ChatOpening(True, None, status.next_opening, schedule.weekly)
    closes_at = status.closes_at if status.intake_open else None
    return ChatOpening(status.intake_open, closes_at, status.next_opening, schedule.weekly)


def _clock(moment: datetime) -> str:
    return moment.astimezone(BRUSSELS).strftime("%H:%M")


def _when(moment: datetime, today: date) -> str:
    """ "vandaag om 17:00", "morgen om 17:00", "maandag om 17:00" (or with the date, when
    more than six days ahead)."""
    day = moment.astimezone(BRUSSELS).date()
    time = _clock(moment)
    if day == today:
        return _("vandaag om {time}").format(time=time)
    if day == today + timedelta(days=1):
        return _("morgen om {time}").format(time=time)
    pattern = "EEEE" if day <= today + timedelta(days=WEEKDAY_ONLY_DAYS) else "EEEE d MMMM"
    name = format_date(day, pattern, locale=i18n.babel_locale())
    return _("{day} om {time}").format(day=name, time=time)


def chat_status_text(opening: ChatOpening, now: datetime) -> str:
    """ "Nu open tot 21:00", or when the chat opens again."""
    if opening.can_start and opening.closes_at:
        return _("Nu open tot %(time)s") % {"time": _clock(opening.closes_at)}
    if opening.can_start:
        return _("Nu open")
    if opening.next_opening:
        today = now.astimezone(BRUSSELS).date()
        return _("Gesloten · opent %(when)s") % {"when": _when(opening.next_opening, today)}
    return _("De chat is nu gesloten")
