"""The WebSocket Origin allowlist over a real socket, and the helpers behind CSRF."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import uvicorn
import websockets
from fastapi import FastAPI, WebSocket
from websockets.exceptions import InvalidStatus

from clb.config import Settings
from clb.web.security import accept_websocket_from_allowed_origin, hash_ip, origin_allowed
from tests.conftest import free_port


def test_origin_allowlist() -> None:
    settings = Settings(public_url="https://clb.example.be", allowed_origins=["https://school.be"])
    assert origin_allowed("https://clb.example.be", settings)
    assert origin_allowed("https://school.be/", settings)
    assert not origin_allowed("https://clb.example.be.evil.com", settings)
    assert not origin_allowed("http://clb.example.be", settings)
    assert not origin_allowed(None, settings)
    assert not origin_allowed("null", settings)


def test_ip_hash_is_salted_and_changes_daily() -> None:
    from datetime import UTC, datetime

    monday = datetime(2026, 11, 23, 12, tzinfo=UTC)
    tuesday = datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert hash_ip("192.0.2.1", "s1", now=monday) == hash_ip("192.0.2.1", "s1", now=monday)
    assert hash_ip("192.0.2.1", "s1", now=monday) != hash_ip("192.0.2.1", "s2", now=monday)
    assert hash_ip("192.0.2.1", "s1", now=monday) != hash_ip("192.0.2.1", "s1", now=tuesday)
    assert "192" not in hash_ip("192.0.2.1", "s1", now=monday)


@pytest.fixture
async def ws_server(settings: Settings) -> AsyncIterator[str]:
    app = FastAPI()
    port = free_port()
    app.state.settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})

    @app.websocket("/ws/echo")
    async def echo(websocket: WebSocket) -> None:
        if await accept_websocket_from_allowed_origin(websocket):
            await websocket.send_text(await websocket.receive_text())
            await websocket.close()

    config = uvicorn.Config(app, port=port, log_config=None, ws="websockets-sansio", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no start event
        await asyncio.sleep(0.02)
    yield f"ws://127.0.0.1:{port}/ws/echo"
    server.should_exit = True
    await task


async def test_websocket_from_our_origin_is_accepted(ws_server: str) -> None:
    origin = ws_server.replace("ws://", "http://").removesuffix("/ws/echo")
    async with websockets.connect(ws_server, origin=origin) as socket:  # type: ignore[arg-type]
        await socket.send("hallo")
        assert await socket.recv() == "hallo"


@pytest.mark.parametrize("origin", ["https://evil.example", None])
async def test_websocket_from_another_origin_is_refused(ws_server: str, origin: str | None) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(ws_server, origin=origin):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403
