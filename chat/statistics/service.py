"""Chat statistics for coordinators: per Brussels day or ISO week over a chosen period,
with every count below 10 hidden — also where it could be worked out by subtraction.

What is counted (docs/statistics.md has the long version):
- walk-in chats only (a chat by appointment never waited in the queue), by the day on which
  it was offered; a chat still waiting is not counted yet;
- offered = answered + abandoned; abandoned = the four wait buckets;
- wait until answer, time waited before abandoning and duration (claim → end) as p50/p90,
  the ratings (count, mean, per star), the pre-chat topic, and the outcome's topics and
  referrals (a chat may name several, so those rows need not add up to the outcome count).

Suppression (chat.suppression): a count below 10 is shown as "<10"; then, for every
additive relation between shown figures (offered = answered + abandoned, abandoned = its
buckets, a week = its days, the period = its weeks, the pre-chat topics = the chats
offered, the stars = the ratings, the outcome topics / referrals = the outcomes, counted as
if each chat named one), one more cell is hidden wherever exactly one is hidden; an exact
audit of all relations together (counts are never negative) then hides more until no hidden
count other than a 0 can be worked out. Days, weeks and the total are suppressed together,
so the day view and the week view of one period cannot be played off against each other. A
percentile or a mean is shown only when it rests on at least 10 chats.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from chat.counsellor_tools.taxonomy import DOMAIN_LABELS, REFERRAL_LABELS, TOPICS
from chat.labels import TOPIC_LABELS
from chat.statistics import repository
from chat.statistics.repository import BUCKETS, COUNTS, MEASURES
from chat.statistics.suppression import THRESHOLD, Group, suppress
from clb.i18n import gettext as _
from clb.web.forms import INVALID_MONDAY, parse_day

BRUSSELS = ZoneInfo("Europe/Brussels")

# Column headings of the page and the CSV (Dutch source text, translated when shown).
LABELS = {
    "offered": "Aangeboden",
    "answered": "Beantwoord",
    "abandoned": "Afgehaakt tijdens het wachten",
    "abandoned_lt2": "Afgehaakt na minder dan 2 min",
    "abandoned_2_5": "Afgehaakt na 2 tot 5 min",
    "abandoned_5_15": "Afgehaakt na 5 tot 15 min",
    "abandoned_ge15": "Afgehaakt na 15 min of langer",
    "rated": "Beoordeeld",
    "wait_p50": "Wachttijd tot antwoord, mediaan (min)",
    "wait_p90": "Wachttijd tot antwoord, p90 (min)",
    "abandoned_after_p50": "Afgehaakt na, mediaan (min)",
    "abandoned_after_p90": "Afgehaakt na, p90 (min)",
    "duration_p50": "Duur van het gesprek, mediaan (min)",
    "duration_p90": "Duur van het gesprek, p90 (min)",
    "rating_mean": "Gemiddelde beoordeling (1 tot 5)",
    "other_codes": "Andere codes",
    "table_answer": "Aanbod, antwoord en duur",
    "table_abandoned": "Afgehaakt tijdens het wachten: na hoe lang",
    "table_ratings": "Beoordelingen",
}


class Grouping(enum.StrEnum):
    day = "day"
    week = "week"


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive
    grouping: Grouping

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=BRUSSELS)

    @property
    def end(self) -> datetime:
        """Midnight after the last day, in Brussels (23, 24 or 25 hours after the last
        midnight on a DST day — zoneinfo gets that right)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=BRUSSELS)

    @property
    def audit_id(self) -> str:
        return f"{self.first.isoformat()}/{self.last.isoformat()}/{self.grouping.value}"


class InvalidPeriod(ValueError):
    """Bad form input; ``errors`` maps a field to its message (in the request's language)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def default_period(today: date) -> Period:
    """The current week and the three before it, per week."""
    monday = today - timedelta(days=today.weekday())
    return Period(monday - timedelta(weeks=3), today, Grouping.week)


def parse_period(first: str, last: str, grouping: str) -> Period:
    """The period from the form (ISO dates, ``dag`` or ``week``), or InvalidPeriod."""
    errors: dict[str, str] = {}
    start = parse_day(first, "van", errors, invalid=INVALID_MONDAY)
    end = parse_day(last, "tot", errors, invalid=INVALID_MONDAY)
    chosen = {"dag": Grouping.day, "week": Grouping.week}.get(grouping.strip())
    if chosen is None:
        errors["per"] = _("Kies per dag of per week.")
    if start and end and end < start:
        errors["tot"] = _("De einddatum ligt voor de begindatum.")
    elif start and end and end >= one_year_after(start):
        errors["tot"] = _("Kies een periode van hoogstens een jaar.")
    if errors or start is None or end is None or chosen is None:
        raise InvalidPeriod(errors)
    return Period(start, end, chosen)


# --- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One published figure. A count below 10 (or one hidden to protect it) has
    ``hidden`` set; a percentile or mean resting on fewer than 10 chats has ``value``
    None."""

    value: float | None
    hidden: bool = False
    is_count: bool = True


@dataclass
class Row:
    first: date
    last: date
    week: tuple[int, int] | None  # (ISO year, ISO week) for a week row
    counts: dict[str, Cell] = field(default_factory=dict)
    measures: dict[str, Cell] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    code: str
    label: str  # Dutch source text, translated when shown
    cell: Cell


@dataclass
class Report:
    period: Period
    rows: list[Row]  # days or weeks, as asked
    total: Row
    stars: list[Line]
    prechat: list[Line]
    outcomes: Cell
    topics: list[tuple[str, list[Line]]]  # per guidance domain (its label)
    referrals: list[Line]


def _days(period: Period) -> list[date]:
    return [period.first + timedelta(days=n) for n in range((period.last - period.first).days + 1)]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _measures(counts: repository.PeriodFigures | None) -> dict[str, Cell]:
    measures: dict[str, Cell] = {}
    for name in MEASURES:
        enough = counts is not None and counts.samples[name] >= THRESHOLD
        for p in ("p50", "p90"):
            value = counts.percentiles[f"{name}_{p}"] if counts and enough else None
            measures[f"{name}_{p}"] = Cell(value, is_count=False)
    mean = counts.rating_mean if counts and counts.counts["rated"] >= THRESHOLD else None
    measures["rating_mean"] = Cell(mean, is_count=False)
    return measures


def _lines(labels: dict[str, str], found: dict[str, int]) -> list[tuple[str, str]]:
    """Every known code (also at 0, so a missing row gives nothing away), then codes no
    longer in the labels."""
    codes = list(labels) + sorted(code for code in found if code not in labels)
    return [(code, labels.get(code, code)) for code in codes]


Unit = tuple[Hashable, ...]  # where a row of counts is published: a day, a week, the total


@dataclass(frozen=True)
class _Figures:
    """The period's figures from the database, per day, per week and in total."""

    by_day: dict[date, repository.PeriodFigures]
    by_week: dict[date, repository.PeriodFigures]
    overall: repository.PeriodFigures | None
    days: list[date]
    weeks: dict[date, list[date]]  # Monday -> the period's days in that week
    found: dict[str, dict[str, int]]  # the breakdowns: code -> count, per kind
    breakdown_lines: dict[str, list[tuple[str, str]]]  # (code, label) per kind

    @property
    def units(self) -> list[tuple[Unit, repository.PeriodFigures | None]]:
        return [
            *((("day", d), self.by_day.get(d)) for d in self.days),
            *((("week", w), self.by_week.get(w)) for w in self.weeks),
            (("total",), self.overall),
        ]


async def _figures(session: AsyncSession, period: Period) -> _Figures:
    figures = await repository.figures_by_period(session, period.start, period.end)
    found = await repository.breakdowns(session, period.start, period.end)
    days = _days(period)
    weeks: dict[date, list[date]] = {}
    for day in days:
        weeks.setdefault(_monday(day), []).append(day)
    star_labels = {str(n): str(n) for n in range(1, 6)}
    prechat_labels = {topic.value: label for topic, label in TOPIC_LABELS.items()}
    topic_labels = {code: label for code, (_domain, label) in TOPICS.items()}
    return _Figures(
        by_day={f.day: f for f in figures if f.day is not None},
        by_week={f.week: f for f in figures if f.day is None and f.week is not None},
        overall=next((f for f in figures if f.day is None and f.week is None), None),
        days=days,
        weeks=weeks,
        found=found,
        breakdown_lines={
            "star": _lines(star_labels, found["star"]),
            "prechat": _lines(prechat_labels, found["prechat"]),
            "topic": _lines(topic_labels, found["topic"]),
            "referral": _lines(REFERRAL_LABELS, found["referral"]),
        },
    )


def _count_values(figures: _Figures) -> dict[Hashable, int]:
    """Every count, keyed by where it is published, in table order."""
    values: dict[Hashable, int] = {}
    for unit, figure in figures.units:
        for name in COUNTS:
            values[(unit, name)] = figure.counts[name] if figure else 0
    for kind, lines in figures.breakdown_lines.items():
        for code, _label in lines:
            values[(kind, code)] = figures.found[kind].get(code, 0)
    values[("outcomes",)] = figures.found["outcomes"].get("", 0)
    return values


def _relations(figures: _Figures) -> list[Group[Hashable]]:
    """The additive relations between published counts that suppression must respect."""
    weeks, lines = figures.weeks, figures.breakdown_lines
    groups: list[Group[Hashable]] = []
    for unit, _figure in figures.units:
        groups.append(Group((unit, "offered"), ((unit, "answered"), (unit, "abandoned"))))
        groups.append(Group((unit, "abandoned"), tuple((unit, b) for b in BUCKETS)))
    for name in COUNTS:
        for monday, in_week in weeks.items():
            groups.append(
                Group((("week", monday), name), tuple((("day", d), name) for d in in_week))
            )
        groups.append(Group((("total",), name), tuple((("week", w), name) for w in weeks)))
    groups.append(
        Group((("total",), "offered"), tuple(("prechat", c) for c, _ in lines["prechat"]))
    )
    groups.append(Group((("total",), "rated"), tuple(("star", c) for c, _ in lines["star"])))
    # Conservative: as if every outcome named exactly one topic (one referral).
    for kind in ("topic", "referral"):
        groups.append(Group(("outcomes",), tuple((kind, c) for c, _ in lines[kind])))
    return groups


@dataclass(frozen=True)
class _Published:
    """The counts after suppression, turned into the report's cells, rows and lines."""

    values: dict[Hashable, int]
    hidden: frozenset[Hashable]
    breakdown_lines: dict[str, list[tuple[str, str]]]

    def cell(self, key: Hashable) -> Cell:
        # A hidden count leaves this module without its value: nothing can print it.
        return Cell(None, hidden=True) if key in self.hidden else Cell(self.values[key])

    def row(
        self,
        unit: Hashable,
        first: date,
        last: date,
        figure: repository.PeriodFigures | None,
        week: tuple[int, int] | None = None,
    ) -> Row:
        return Row(
            first=first,
            last=last,
            week=week,
            counts={name: self.cell((unit, name)) for name in COUNTS},
            measures=_measures(figure),
        )

    def lines_of(self, kind: str) -> list[Line]:
        return [
            Line(code, label, self.cell((kind, code))) for code, label in self.breakdown_lines[kind]
        ]


def _rows(period: Period, figures: _Figures, published: _Published) -> list[Row]:
    if period.grouping == Grouping.day:
        return [published.row(("day", d), d, d, figures.by_day.get(d)) for d in figures.days]
    rows = []
    for monday, in_week in figures.weeks.items():
        iso = monday.isocalendar()
        rows.append(
            published.row(
                ("week", monday),
                in_week[0],
                in_week[-1],
                figures.by_week.get(monday),
                (iso.year, iso.week),
            )
        )
    return rows


def _topics(published: _Published) -> list[tuple[str, list[Line]]]:
    """The outcome's topics per guidance domain; codes no longer known come last."""
    topic_lines = {line.code: line for line in published.lines_of("topic")}
    topics: list[tuple[str, list[Line]]] = [
        (label, [topic_lines[c] for c, (d, _l) in TOPICS.items() if d == domain])
        for domain, label in DOMAIN_LABELS.items()
    ]
    unknown = [line for code, line in topic_lines.items() if code not in TOPICS]
    if unknown:
        topics.append((LABELS["other_codes"], unknown))
    return topics


async def build_report(session: AsyncSession, period: Period) -> Report:
    figures = await _figures(session, period)
    values = _count_values(figures)
    hidden = suppress(values, _relations(figures))
    published = _Published(values, hidden, figures.breakdown_lines)
    return Report(
        period=period,
        rows=_rows(period, figures, published),
        total=published.row(("total",), period.first, period.last, figures.overall),
        stars=published.lines_of("star"),
        prechat=published.lines_of("prechat"),
        outcomes=published.cell(("outcomes",)),
        topics=_topics(published),
        referrals=published.lines_of("referral"),
    )
