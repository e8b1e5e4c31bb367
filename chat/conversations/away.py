"""Chats whose visitor went away and did not come back within the window: a waiting one
ends as abandoned (and is counted so), a running one ends with a notice. Run by the worker
a few times a minute; presence itself lives in Redis (chat/realtime/presence.py)."""

from __future__ import annotations

import time
import uuid

from chat.conversations import repository
from chat.conversations.ending import end_while_away
from chat.conversations.models import OPEN_STATUSES, Status
from chat.realtime import presence
from clb.db import commit, utcnow
from clb.services import Services


async def end_away_conversations(services: Services) -> list[uuid.UUID]:
    """End every open chat whose visitor has been away longer than its window; the ids."""
    settings = services.settings
    window = {
        Status.waiting.value: settings.chat_return_window_minutes * 60,
        Status.active.value: settings.chat_active_away_minutes * 60,
    }
    async with services.sessionmaker() as session:
        open_chats = await repository.open_statuses(session)
    away = await presence.away_since_or_now(services.redis, services.keys, list(open_chats))
    now = time.time()
    due = [cid for cid, since in away.items() if now - since >= window[open_chats[cid]]]
    ended = [cid for cid in due if await _end_if_still_away(services, cid)]
    await presence.forget_old(services.redis, services.keys)
    return ended


async def _end_if_still_away(services: Services, conversation_id: uuid.UUID) -> bool:
    async with services.sessionmaker() as session:
        conversation = await repository.lock_conversation(session, conversation_id)
        if conversation is None or conversation.status not in OPEN_STATUSES:
            return False
        states = await presence.visitor_states(services.redis, services.keys, [conversation_id])
        if states.get(conversation_id) is None:  # came back meanwhile
            return False
        await end_while_away(session, services, conversation, utcnow())
        await commit(session)
    return True
