"""Who may start a chat: "heel druk" counts only visitors who are there, and a visitor
token cannot start chat after chat (issue 14). In-process app, real PostgreSQL and Redis."""

from __future__ import annotations

import uuid

import httpx
import pytest

from chat.realtime.visitor_sockets import Held, VisitorSockets
from clb.config import Settings
from clb.services import Services

FORM = {"nickname": "Sam", "who": "leerling", "topic": "school", "consent": True}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"chat_max_queue": 2, "chat_always_open": True, "chat_presence_grace_seconds": 0}
    )


async def start(client: httpx.AsyncClient, token: str | None = None) -> httpx.Response:
    if token is None:
        token = (await client.post("/api/visitors")).json()["token"]
    headers = {"authorization": f"Bearer {token}"}
    return await client.post("/api/chat/conversations", json=FORM, headers=headers)


async def test_busy_counts_only_the_visitors_who_are_there(
    client: httpx.AsyncClient, services: Services
) -> None:
    # Three chats started by a script that never connects: the queue stays open.
    ghosts = [await start(client) for _ in range(3)]
    assert [r.status_code for r in ghosts] == [201, 201, 201]
    sockets = VisitorSockets.of(services)
    held = []
    for response in ghosts[:2]:  # two of them open their page after all
        cid = uuid.UUID(response.json()["conversation_id"])
        held.append(await sockets.admit(Held(cid, uuid.uuid4(), "school")))
    full = await start(client)
    assert full.status_code == 503 and full.json()["error"]["code"] == "queue_full"
    await sockets.release(held[0], waiting=True)  # one leaves: room again
    assert (await start(client)).status_code == 201


async def test_a_token_cannot_start_chat_after_chat(client: httpx.AsyncClient) -> None:
    token = (await client.post("/api/visitors")).json()["token"]
    auth = {"authorization": f"Bearer {token}"}
    for _ in range(4):
        started = await start(client, token)
        assert started.status_code == 201
        exit_url = f"/api/chat/conversations/{started.json()['conversation_id']}/exit"
        assert (await client.post(exit_url, headers=auth)).status_code == 204
    refused = await start(client, token)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limited" and "chats na elkaar" in error["message"]
    assert int(refused.headers["retry-after"]) > 60
