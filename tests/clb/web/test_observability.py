"""Logs are JSON with a request id and the route template; no paths, queries or content."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

import httpx
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from clb.health.metrics import Metrics
from clb.web.observability import JsonFormatter, RequestContextMiddleware
from tests.conftest import free_port


async def test_access_log_names_the_route_template_not_the_url(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="clb.access"):
        response = await client.get("/taal/en", params={"next": "/geheim-pad?naam=Lotte"})
    record = next(r for r in caplog.records if r.name == "clb.access")
    line = orjson.loads(JsonFormatter().format(record))
    assert line["route"] == "/taal/{language}"
    assert line["status"] == 303
    assert line["request_id"] == response.headers["x-request-id"]
    assert "Lotte" not in str(line) and "geheim" not in str(line)


def test_formatter_writes_one_json_object_per_line_with_extras() -> None:
    record = logging.LogRecord(
        "clb.test", logging.WARNING, __file__, 1, "job %s failed", (7,), None
    )
    record.ip_hash = "abc"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = orjson.loads(line)
    assert data["msg"] == "job 7 failed"
    assert data["level"] == "WARNING"
    assert data["ip_hash"] == "abc"
    assert data["ts"].endswith("+00:00")


async def test_socket_sessions_are_logged_with_route_status_and_close_code(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()
        await websocket.close(4003)

    async def refused(websocket: WebSocket) -> None:
        await websocket.close(1008)  # before accepting: the handshake is refused

    async def client_leaves(websocket: WebSocket) -> None:
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            await websocket.receive_text()

    routes = [
        WebSocketRoute("/ws/chat", chat),
        WebSocketRoute("/ws/refused", refused),
        WebSocketRoute("/ws/left", client_leaves),
    ]
    app = RequestContextMiddleware(Starlette(routes=routes), metrics=Metrics())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve())
    base = f"ws://127.0.0.1:{port}"
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.01)
        with caplog.at_level(logging.INFO, logger="clb.access"):
            async with connect(f"{base}/ws/chat?token=geheim") as socket:
                await socket.send("hallo")
                with pytest.raises(ConnectionClosed):
                    await socket.recv()
            with pytest.raises(InvalidStatus):
                async with connect(f"{base}/ws/refused"):
                    pass
            async with connect(f"{base}/ws/left") as socket:
                await socket.close(1001)
            # The server logs a session when its side ends, just after the client's.
            while len([r for r in caplog.records if r.name == "clb.access"]) < 3:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        server.should_exit = True
        await serving
    lines = [
        orjson.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "clb.access"
    ]
    seen = {(x["route"], x["status"], x["close_code"], x["closed_by"]) for x in lines}
    assert seen == {
        ("/ws/chat", 101, 4003, "server"),
        ("/ws/left", 101, 1001, "client"),
        ("/ws/refused", 403, None, ""),
    }
    assert "geheim" not in str(lines)


async def test_a_refused_form_says_why_in_the_log(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="clb.web.security"):
        foreign = await client.post(
            "/console/login",
            data={"email": "an@clb.example", "password": "x"},
            headers={"origin": "http://127.0.0.1:18000"},
        )
        no_token = await client.post("/console/login", data={"email": "a", "password": "x"})
    assert foreign.status_code == 403 and no_token.status_code == 403
    lines = [orjson.loads(JsonFormatter().format(r)) for r in caplog.records]
    assert [line["msg"] for line in lines] == [
        "form refused: origin not allowed",
        "form refused: no CSRF cookie",
    ]
    assert lines[0]["origin"] == "http://127.0.0.1:18000"
    assert lines[0]["expected"] == ["http://127.0.0.1:8000"]


def test_a_logged_error_shows_where_and_what_kind_never_its_text() -> None:
    try:
        try:
            raise ValueError("invalid input for query argument $1: 'lotte@example.be'")
        except ValueError as error:
            raise RuntimeError("while saving lotte@example.be") from error
    except RuntimeError:
        record = logging.LogRecord("clb.test", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()
    line = orjson.loads(JsonFormatter().format(record))
    assert "ValueError" in line["exc"] and "RuntimeError" in line["exc"]
    assert "test_observability.py" in line["exc"]
    assert "lotte" not in line["exc"]
