"""Appointments with CLB workers: what can be booked, when, and what was booked."""

from __future__ import annotations

import uuid
from datetime import date, time

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base, Timestamped
from scheduling.appointments.models import MODES_SQL


class BookingPolicy(Base):
    """A counsellor's booking rules; counsellors without a row use the defaults."""

    __tablename__ = "booking_policies"
    __table_args__ = (
        CheckConstraint("min_notice_working_days BETWEEN 0 AND 20", name="notice_range"),
        CheckConstraint("horizon_days BETWEEN 1 AND 365", name="horizon_range"),
        CheckConstraint("max_per_day BETWEEN 1 AND 40", name="max_per_day_range"),
    )

    counsellor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    min_notice_working_days: Mapped[int] = mapped_column(SmallInteger, default=1)
    horizon_days: Mapped[int] = mapped_column(SmallInteger, default=42)
    max_per_day: Mapped[int] = mapped_column(SmallInteger, default=6)
    # The personal agenda feed: its token is derived from the secret key and this
    # generation (see scheduling.tokens); only the hash is stored, for the lookup.
    feed_token_generation: Mapped[int] = mapped_column(default=0)
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)


class AvailabilityRule(Base):
    """Weekly hours: on this weekday, from–to (local time), these modes, at this location."""

    __tablename__ = "availability_rules"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("starts_at < ends_at", name="period_order"),
        CheckConstraint(f"modes <@ {MODES_SQL} AND cardinality(modes) > 0", name="known_modes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    counsellor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger)  # Monday = 0
    starts_at: Mapped[time]
    ends_at: Mapped[time]
    modes: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id"))


class AvailabilityOverride(Base):
    """One date handled differently: the rows of a date replace its weekly hours; a row
    without times means the counsellor is not available that day at all."""

    __tablename__ = "availability_overrides"
    __table_args__ = (
        CheckConstraint(
            "(starts_at IS NULL AND ends_at IS NULL) OR starts_at < ends_at", name="period_order"
        ),
        CheckConstraint(f"modes <@ {MODES_SQL}", name="known_modes"),
        Index("ix_availability_overrides_counsellor_day", "counsellor_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    counsellor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE")
    )
    day: Mapped[date]
    starts_at: Mapped[time | None]
    ends_at: Mapped[time | None]
    modes: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list)
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("locations.id"))
    note: Mapped[str] = mapped_column(String(200), default="")


class ClosedPeriod(Timestamped, Base):
    """Days a centre takes no appointments (school holidays of a school year, a closure).
    Belgian public holidays need no row: they come from the ``holidays`` package."""

    __tablename__ = "closed_periods"
    __table_args__ = (CheckConstraint("first_day <= last_day", name="day_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL: every centre (e.g. the Flemish school holidays).
    centre_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("centres.id"), index=True)
    first_day: Mapped[date]
    last_day: Mapped[date]
    name: Mapped[str] = mapped_column(String(120))
