"""Invisible control characters (NUL, the other C0 controls, bidi overrides) are removed at
the edge, the same on every path (clb.web.input_hygiene): what a person meant is kept, and
nothing reaches the database or the log that could hurt. The database's own refusal of NUL
(a typed 422) stays as the backstop for what the edge does not clean (file uploads)."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation, Message
from tests.chat.support import Visitor


async def test_a_nul_in_a_search_is_removed_and_leaves_no_trace(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = await client.get("/api/schools", params={"q": "sint\x00barbara"})
    assert response.status_code == 200
    server_side = [record for record in caplog.records if not record.name.startswith("httpx")]
    assert not [record for record in server_side if record.exc_info]
    assert all("barbara" not in record.getMessage() for record in server_side)


async def test_controls_in_a_chat_message_and_a_nickname_are_removed(
    live_server: str, db: AsyncSession
) -> None:
    visitor = await Visitor.join(live_server, nickname="Sam\u202e\x07")
    socket = await visitor.connect()
    sent = await socket.say("hallo\x00 daar\x1b")
    ack = await socket.expect("ack", client_msg_id=sent)
    stored = await db.scalar(select(Message.body).where(Message.seq == ack["seq"]))
    nickname = await db.scalar(select(Conversation.nickname))
    assert (stored, nickname) == ("hallo daar", "Sam")
    await socket.close()


async def test_a_form_keeps_what_was_typed_without_the_controls(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/console/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = await client.post(
        "/console/login",
        data={"email": "an\x00@clb\u202e.example", "password": "fout", "csrf_token": token},
    )
    assert answer.status_code == 401
    assert 'value="an@clb.example"' in answer.text
