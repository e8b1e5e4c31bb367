"""The search's safety net: a query that the chat's crisis lexicon flags gets a calm box with
help lines above the results (Zelfmoordlijn 1813, Awel 102, 112, and the CLB chat when it is
open), and the box is counted per day, without the query."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from chat.public import BRUSSELS, chat_opening, is_crisis_text
from clb.services import Services
from toolbox.search import repository

log = logging.getLogger(__name__)

ZELFMOORDLIJN_CHAT_URL = "https://www.zelfmoord1813.be"
COUNT_DAYS = 30


@dataclass(frozen=True)
class SafetyNet:
    """What the box shows: the help lines always, the CLB chat only while it takes chats."""

    chat_open: bool
    chat_url: str = "/chat"
    zelfmoordlijn_chat_url: str = ZELFMOORDLIJN_CHAT_URL


async def safety_net_for(
    session: AsyncSession, services: Services, query: str, now: datetime
) -> SafetyNet | None:
    """The box for this query, counted for today (Brussels), or None for an ordinary one."""
    if not query.strip() or not await is_crisis_text(services, query):
        return None
    opening = await chat_opening(session, services.settings, now)
    await repository.count_safety_net(session, now.astimezone(BRUSSELS).date())
    # A count only: never the query, the visitor or anything else about the search.
    log.info("toolbox safety net shown")
    return SafetyNet(chat_open=opening.can_start)


async def safety_net_days(session: AsyncSession, today: date) -> dict[date, int]:
    """How often the box was shown on each of the last ``COUNT_DAYS`` days (days without
    any left out), for the coordinators' statistics."""
    return await repository.safety_net_counts(
        session, today - timedelta(days=COUNT_DAYS - 1), today
    )
