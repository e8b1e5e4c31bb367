"""The toolbox's search log: per day and normalised query, counts only, never a person."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base


class SearchDay(Base):
    """How often ``query`` was searched on ``day`` (Brussels), how many of those searches
    found nothing, and how many clicks on a result followed, each visitor counted once a day
    (counting.py). No visitor, address or time of day is kept; the rows go after 90 days
    (``tasks.SEARCH_LOG_RETENTION``)."""

    __tablename__ = "toolbox_search_log"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    query: Mapped[str] = mapped_column(String(100), primary_key=True)
    searches: Mapped[int] = mapped_column(Integer, default=0)
    zero_results: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
