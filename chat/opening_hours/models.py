"""The chat's opening hours as stored: a weekly schedule and dated exceptions."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import CheckConstraint, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base, Timestamped

MAX_NOTE_LENGTH = 200


class WeeklyOpeningPeriod(Base):
    """One opening period on a weekday (0 = Monday) in Brussels wall-clock time."""

    __tablename__ = "chat_weekly_opening_periods"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("opens_at < closes_at", name="opens_before_closes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    weekday: Mapped[int] = mapped_column(SmallInteger, index=True)
    opens_at: Mapped[time]
    closes_at: Mapped[time]


class OpeningException(Timestamped, Base):
    """A date that differs from the weekly schedule: closed (no times) or open at the given
    times instead of the usual ones."""

    __tablename__ = "chat_opening_exceptions"
    __table_args__ = (
        CheckConstraint(
            "(opens_at IS NULL AND closes_at IS NULL) OR "
            "(opens_at IS NOT NULL AND closes_at IS NOT NULL AND opens_at < closes_at)",
            name="closed_or_valid_period",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    opens_at: Mapped[time | None]
    closes_at: Mapped[time | None]
    # Shown to visitors on the closed screen (e.g. "Kerstvakantie").
    note: Mapped[str | None] = mapped_column(String(MAX_NOTE_LENGTH))

    @property
    def is_closed(self) -> bool:
        return self.opens_at is None
