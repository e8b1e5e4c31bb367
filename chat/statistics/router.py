"""The statistics page and its CSV export, for coordinators (and admins).

Both show exactly the same, already suppressed figures (chat.statistics); the page is a GET
form, so it works without JavaScript and a period can be bookmarked. Every export is written
to the audit log (who, which period — never a figure).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Any

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from chat.opening_hours.schedule import ChatClock, local_date
from chat.statistics import service as statistics
from chat.statistics.service import LABELS, Cell, Grouping, InvalidPeriod, Period, Report, Row
from clb import i18n
from clb.audit import record_audit
from clb.i18n import gettext as _
from clb.web.deps import CurrentCoordinator, SessionDep
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE = "/console/statistieken"
FORM_GROUPING = {Grouping.day: "dag", Grouping.week: "week"}

QueryField = Annotated[str | None, Query(max_length=30)]

# The tables over time: their caption and columns (keys of LABELS).
TIME_TABLES = (
    (
        "table_answer",
        (
            "offered",
            "answered",
            "abandoned",
            "wait_p50",
            "wait_p90",
            "duration_p50",
            "duration_p90",
        ),
    ),
    (
        "table_abandoned",
        (
            "abandoned",
            "abandoned_lt2",
            "abandoned_2_5",
            "abandoned_5_15",
            "abandoned_ge15",
            "abandoned_after_p50",
            "abandoned_after_p90",
        ),
    ),
    ("table_ratings", ("rated", "rating_mean")),
)
CSV_COLUMNS = (
    "offered",
    "answered",
    "abandoned",
    "abandoned_lt2",
    "abandoned_2_5",
    "abandoned_5_15",
    "abandoned_ge15",
    "rated",
    "wait_p50",
    "wait_p90",
    "abandoned_after_p50",
    "abandoned_after_p90",
    "duration_p50",
    "duration_p90",
    "rating_mean",
)
HIDDEN = "<10"


def _number(value: float, locale: str, *, decimals: bool) -> str:
    return format_decimal(value, format="#,##0.0" if decimals else "#,##0", locale=locale)


def _text(cell: Cell, key: str, locale: str, *, missing: str) -> str:
    """A cell as people read it: "<10" for a hidden count, ``missing`` for a percentile or
    mean resting on too few chats; times in minutes with one decimal."""
    if cell.hidden:
        return HIDDEN
    if cell.value is None:
        return missing
    if cell.is_count:
        return _number(cell.value, locale, decimals=False)
    value = cell.value if key == "rating_mean" else cell.value / 60
    return _number(value, locale, decimals=True)


def _value(row: Row, key: str) -> Cell:
    return row.counts[key] if key in row.counts else row.measures[key]


def _row_label(row: Row, locale: str) -> str:
    if row.week is None:
        return format_date(row.first, "EEE d MMM y", locale=locale)
    return _("Week %(number)s (%(first)s – %(last)s)") % {
        "number": row.week[1],
        "first": format_date(row.first, "d MMM y", locale=locale),
        "last": format_date(row.last, "d MMM y", locale=locale),
    }


def _time_tables(report: Report) -> list[dict[str, Any]]:
    locale = i18n.babel_locale()
    tables = []
    for caption, columns in TIME_TABLES:
        tables.append(
            {
                "caption": _(LABELS[caption]),
                "columns": [_(LABELS[key]) for key in columns],
                "rows": [
                    {
                        "label": _row_label(row, locale),
                        "cells": [_text(_value(row, k), k, locale, missing="–") for k in columns],
                    }
                    for row in report.rows
                ],
                "total": [_text(_value(report.total, k), k, locale, missing="–") for k in columns],
            }
        )
    return tables


def _lines(lines: list[statistics.Line], locale: str) -> list[dict[str, str]]:
    return [
        {"label": _(line.label), "value": _text(line.cell, line.code, locale, missing="–")}
        for line in lines
    ]


def _query(period: Period) -> str:
    return (
        f"van={period.first.isoformat()}&tot={period.last.isoformat()}"
        f"&per={FORM_GROUPING[period.grouping]}"
    )


def _read_period(van: str | None, tot: str | None, per: str | None, today_period: Period) -> Period:
    if van is None and tot is None and per is None:
        return today_period
    return statistics.parse_period(van or "", tot or "", per or "")


def _asked_period(
    request: Request, now: datetime, van: str | None, tot: str | None, per: str | None
) -> Period | HTMLResponse:
    """The period asked for, or the form again saying what was wrong."""
    try:
        return _read_period(van, tot, per, statistics.default_period(local_date(now)))
    except InvalidPeriod as exc:
        values = {"van": van or "", "tot": tot or "", "per": per or ""}
        return render(
            request,
            "console_statistics.html",
            {"form_errors": exc.errors, "form_values": values},
            status_code=422,
        )


async def _asked_report(
    request: Request,
    staff: CurrentCoordinator,
    session: SessionDep,
    now: ChatClock,
    van: QueryField = None,
    tot: QueryField = None,
    per: QueryField = None,
) -> Report | HTMLResponse:
    """The report for the period asked for, or the form again saying what was wrong. One
    dependency for the page and the CSV, so both always show the same figures."""
    request.state.staff = staff
    period = _asked_period(request, now, van, tot, per)
    if isinstance(period, HTMLResponse):
        return period
    return await statistics.build_report(session, period)


AskedReport = Annotated[Report | HTMLResponse, Depends(_asked_report)]


@router.get(PAGE, response_class=HTMLResponse)
async def statistics_page(request: Request, report: AskedReport) -> HTMLResponse:
    if isinstance(report, HTMLResponse):
        return report
    period = report.period
    locale = i18n.babel_locale()
    context = {
        "form_errors": {},
        "form_values": {
            "van": period.first.isoformat(),
            "tot": period.last.isoformat(),
            "per": FORM_GROUPING[period.grouping],
        },
        "report": {
            "first": format_date(period.first, "d MMMM y", locale=locale),
            "last": format_date(period.last, "d MMMM y", locale=locale),
            "per_day": period.grouping == Grouping.day,
            "csv_url": f"{PAGE}.csv?{_query(period)}",
            "time_tables": _time_tables(report),
            "stars": _lines(report.stars, locale),
            "prechat": _lines(report.prechat, locale),
            "outcomes": _text(report.outcomes, "outcomes", locale, missing="–"),
            "topics": [(_(label), _lines(lines, locale)) for label, lines in report.topics],
            "referrals": _lines(report.referrals, locale),
        },
    }
    return render(request, "console_statistics.html", context)


def _csv(report: Report) -> str:
    """``;``-separated with decimal commas, as Excel opens it in Belgium."""
    locale = "nl_BE"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    period = report.period
    grouping = _("per dag") if period.grouping == Grouping.day else _("per week")
    writer.writerow(
        [_("Chatstatistieken (chats zonder afspraak)"), period.first, period.last, grouping]
    )
    writer.writerow(
        [_("<10: minder dan 10, of verborgen zodat een klein aantal niet terug te rekenen is.")]
    )
    writer.writerow([])
    writer.writerow(
        [_("Periode"), _("Van"), _("Tot en met")] + [_(LABELS[key]) for key in CSV_COLUMNS]
    )
    for row in [*report.rows, report.total]:
        if row is report.total:
            label = _("Totaal")
        elif row.week is not None:
            label = f"{row.week[0]}-W{row.week[1]:02d}"
        else:
            label = row.first.isoformat()
        cells = [_text(_value(row, k), k, locale, missing="") for k in CSV_COLUMNS]
        writer.writerow([label, row.first.isoformat(), row.last.isoformat(), *cells])
    sections = (
        (_("Aantal sterren"), _("Beoordelingen"), report.stars),
        (_("Onderwerp bij de start van de chat"), _("Chats"), report.prechat),
        (
            _("Onderwerp van het gesprek (uitkomst)"),
            _("Chats"),
            [line for _domain, lines in report.topics for line in lines],
        ),
        (_("Doorverwijzing"), _("Chats"), report.referrals),
    )
    for heading, column, lines in sections:
        writer.writerow([])
        writer.writerow([heading, column])
        for line in lines:
            writer.writerow([_(line.label), _text(line.cell, line.code, locale, missing="")])
    writer.writerow([])
    writer.writerow(
        [
            _("Gesprekken met een vastgelegde uitkomst"),
            _text(report.outcomes, "", locale, missing=""),
        ]
    )
    return out.getvalue()


@router.get(f"{PAGE}.csv")
async def statistics_csv(
    report: AskedReport, staff: CurrentCoordinator, session: SessionDep
) -> Response:
    if isinstance(report, HTMLResponse):
        return report
    period = report.period
    record_audit(
        session,
        "statistics.export",
        actor_id=staff.id,
        object_type="statistics",
        object_id=period.audit_id,
    )
    filename = (
        f"chatstatistieken_{period.first.isoformat()}_{period.last.isoformat()}"
        f"_{FORM_GROUPING[period.grouping]}.csv"
    )
    # The byte order mark makes Excel read the file as UTF-8 (é, –, ≥).
    return Response(
        "\ufeff" + _csv(report),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
