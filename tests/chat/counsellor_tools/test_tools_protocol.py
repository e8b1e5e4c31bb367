"""On a real server: a private note never reaches the visitor's socket (live or replayed),
and the handover code arrives there as a system message with its two links."""

from __future__ import annotations

import re
import uuid

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import service
from chat.conversations.models import Conversation, Status
from clb.auth.models import StaffAccount
from clb.db import commit, utcnow
from clb.services import Services
from tests.chat.support import Visitor, staff_cookie
from tests.chat.tools_support import api
from tests.conftest import make_staff

pytestmark = pytest.mark.slow

NOTE = "Geheime notitie over thuis"


async def held(db: AsyncSession, visitor: Visitor) -> None:
    staff = await make_staff(db)
    conversation = await db.get(Conversation, uuid.UUID(visitor.conversation_id))
    assert conversation is not None
    # Held directly: claiming has its own protocol tests.
    conversation.status = Status.active.value
    conversation.counsellor_id = staff.id
    conversation.claimed_at = utcnow()
    await commit(db)


def staff_http(base_url: str, cookie: str) -> httpx.AsyncClient:
    token = re.search(r"clb_csrf=([^;]+)", cookie)
    assert token, "the login page sets the CSRF cookie"
    headers = {"cookie": cookie, "x-csrf-token": token.group(1), "origin": base_url}
    return httpx.AsyncClient(base_url=base_url, headers=headers)


async def test_notes_never_reach_the_visitor_socket_and_the_code_does(
    live_server: str, db: AsyncSession, services: Services
) -> None:
    visitor = await Visitor.join(live_server)
    await held(db, visitor)
    pupil = await visitor.connect()
    cookie = await staff_cookie(live_server, "an@clb.example")
    async with staff_http(live_server, cookie) as staff:
        added = await staff.post(api(visitor.conversation_id, "notes"), json={"body": NOTE})
        assert added.status_code == 201, added.text
        offered = await staff.post(api(visitor.conversation_id, "handover-code"))
        assert offered.status_code == 201, offered.text
        code = offered.json()["code"]
    conversation = await db.get(Conversation, uuid.UUID(visitor.conversation_id))
    assert conversation is not None and conversation.counsellor_id is not None
    account = await db.get(StaffAccount, conversation.counsellor_id)
    assert account is not None
    after = "Na de notitie"
    await service.counsellor_send(db, services, account, conversation.id, uuid.uuid4(), after)
    await commit(db)

    live: list[dict[str, object]] = []
    while not live or live[-1].get("body") != "Na de notitie":
        live.append(await pupil.recv())
    notice = next(f for f in live if f.get("type") == "message" and f.get("sender") == "system")
    assert notice["body"] == (
        f"Je code voor je eigen CLB: {code}. Liever iemand zien: /liever-iemand-zien?code={code}"
        f" — Een afspraak maken: /afspraak?code={code}"
    )
    await pupil.close()

    # A fresh connection replays everything from the start: still no note.
    again = await visitor.connect(last_seq=0)
    replayed = [await again.expect("message") for _ in range(2)]
    assert [m["body"] for m in replayed][-1] == "Na de notitie"
    await again.close()
    for frame in [*live, *replayed, *again.pending]:
        assert "Geheime" not in orjson.dumps(frame).decode()

    async with httpx.AsyncClient(base_url=live_server) as http:
        transcript = await http.get(
            f"/api/chat/conversations/{visitor.conversation_id}/transcript",
            headers={"authorization": f"Bearer {visitor.token}"},
        )
        assert transcript.status_code == 200 and code in transcript.text
        assert "Geheime" not in transcript.text
        # The visitor's token opens no staff endpoint.
        notes = await http.get(
            api(visitor.conversation_id, "notes"),
            headers={"authorization": f"Bearer {visitor.token}"},
        )
        assert notes.status_code == 401
