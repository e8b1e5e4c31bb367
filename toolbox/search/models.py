"""The words pupils and parents use for each theme, in every interface language.

Editors keep these lists in the console; the search reads them to match a query to themes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Identity, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base


class ThemeWord(Base):
    """One word or phrase that names a theme (a key of ``toolbox.labels.THEME_LABELS``).

    ``word`` is shown as the editor typed it; ``normalised`` is what the search compares
    (lower case, accents off, one space between words).
    """

    __tablename__ = "toolbox_theme_words"
    __table_args__ = (UniqueConstraint("theme", "language", "normalised"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    theme: Mapped[str] = mapped_column(String(40), index=True)
    language: Mapped[str] = mapped_column(String(8))
    word: Mapped[str] = mapped_column(String(80))
    normalised: Mapped[str] = mapped_column(String(80), index=True)
    # "seed" for the shipped lists, "editor" for words an editor added in the console.
    source: Mapped[str] = mapped_column(String(10), default="editor")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class SafetyNetDay(Base):
    """How often, on one day (Brussels), a search showed the crisis help box. Only a count:
    the query itself is never stored."""

    __tablename__ = "toolbox_safety_net_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    shown: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
