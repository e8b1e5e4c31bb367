"""What the rota pages show, as plain values for the templates (Brussels dates and times,
translated words): shared by the coordinator's and the counsellor's pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from babel.dates import format_date

from chat.opening_hours.schedule import BRUSSELS
from chat.rota.service import SlotView, WeekView
from clb import i18n


def day_label(day: date) -> str:
    return format_date(day, "EEEE d MMMM", locale=i18n.babel_locale())


def when(starts_at: datetime, ends_at: datetime) -> str:
    """ "maandag 7 december, 17:00–21:00"."""
    start, end = starts_at.astimezone(BRUSSELS), ends_at.astimezone(BRUSSELS)
    return f"{day_label(start.date())}, {start:%H:%M}–{end:%H:%M}"


def hours(starts_at: datetime, ends_at: datetime) -> str:
    start, end = starts_at.astimezone(BRUSSELS), ends_at.astimezone(BRUSSELS)
    return f"{start:%H:%M}–{end:%H:%M}"


def _slot(view: SlotView, now: datetime, error: dict[str, str] | None) -> dict[str, Any]:
    key = view.slot.key
    failed = error is not None and error.get("slot") == key
    return {
        "key": key,
        "id": "slot-" + view.slot.starts_at.strftime("%Y%m%d%H%M"),
        "form_id": "plan-" + view.slot.starts_at.strftime("%Y%m%d%H%M"),
        "time": hours(view.slot.starts_at, view.slot.ends_at),
        "when": when(view.slot.starts_at, view.slot.ends_at),
        "planned": [{"id": p.shift.id, "name": p.name} for p in view.planned],
        "count": len(view.planned),
        "wanted": view.wanted,
        "uncovered": view.uncovered,
        "ended": view.ended,
        "running": view.slot.contains(now),
        "candidates": [{"id": str(p.staff_id), "name": p.name} for p in view.candidates],
        "error": error["message"] if failed and error else "",
        "chosen": error.get("staff_id", "") if failed and error else "",
    }


def week(view: WeekView, now: datetime, error: dict[str, str] | None) -> dict[str, Any]:
    return {
        "monday": view.monday.isoformat(),
        "label": day_label(view.monday),
        "uncovered": view.uncovered,
        "outside": view.outside,
        "days": [
            {
                "label": day_label(day.day).capitalize(),
                "slots": [_slot(s, now, error) for s in day.slots],
                "outside": [
                    {
                        "id": row.shift.id,
                        "name": row.name,
                        "time": hours(row.shift.starts_at, row.shift.ends_at),
                        "ended": row.shift.ends_at <= now,
                    }
                    for row in day.outside
                ],
            }
            for day in view.days
        ],
    }
