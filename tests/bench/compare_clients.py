"""The chat comparison's clients for this platform: a pupil's page (``/ws/chat``) and a
counsellor's console (``/ws/console``) holding one chat, with the interface that the peer's
and the bare relay's clients share (``tests/bench/peer_socketio.py``,
``tests/bench/bare_relay.py``), so one load generator drives all three the same way."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

OnEvent = Callable[[str, dict[str, Any]], None]


class ClbClient:
    """One socket of one chat. Incoming frames become ``on_event(kind, data)`` with kind
    ``message`` (the other side's only), ``ack``, ``typing``, ``receipt`` or ``pong``."""

    def __init__(
        self, connection: ClientConnection, conversation_id: str, role: str, on_event: OnEvent
    ) -> None:
        self.connection = connection
        self.conversation_id = conversation_id
        self.role = role
        self.on_event = on_event
        # A console names the chat in every frame; a pupil's socket has only one.
        self.scope = {"conversation_id": conversation_id} if role == "counsellor" else {}
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def visitor(
        cls, ws_base: str, token: str, conversation_id: str, address: str, on_event: OnEvent
    ) -> ClbClient:
        connection = await _open(ws_base + "/ws/chat", {"X-Forwarded-For": address})
        await _send(
            connection,
            {
                "type": "hello",
                "v": 1,
                "token": token,
                "conversation_id": conversation_id,
                "last_seq": 0,
            },
        )
        await _wait_for(connection, "welcome")
        return cls(connection, conversation_id, "visitor", on_event)

    @classmethod
    async def counsellor(
        cls, ws_base: str, cookie: str, conversation_id: str, on_event: OnEvent
    ) -> ClbClient:
        connection = await _open(ws_base + "/ws/console", {"Cookie": cookie})
        await _send(connection, {"type": "hello", "v": 1})
        await _wait_for(connection, "welcome")
        await _send(connection, {"type": "open", "conversation_id": conversation_id, "last_seq": 0})
        return cls(connection, conversation_id, "counsellor", on_event)

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.connection:
                frame: dict[str, Any] = orjson.loads(raw)
                kind = frame.get("type")
                if kind == "message":
                    if frame.get("sender") not in (self.role, "system"):
                        self.on_event("message", frame)
                elif kind in ("ack", "typing", "receipt", "pong", "error"):
                    self.on_event(str(kind), frame)

    async def send_message(self, client_msg_id: str, body: str, t: float) -> None:
        frame = {"type": "send", **self.scope, "client_msg_id": client_msg_id, "body": body}
        await _send(self.connection, frame)

    async def send_typing(self, active: bool) -> None:
        await _send(self.connection, {"type": "typing", **self.scope, "active": active})

    async def send_read(self, seq: int) -> None:
        await _send(self.connection, {"type": "receipt", **self.scope, "kind": "read", "seq": seq})

    async def ping(self) -> None:
        await _send(self.connection, {"type": "ping"})

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(Exception):
            await self.connection.close()


async def _open(url: str, headers: dict[str, str]) -> ClientConnection:
    origin = "http://" + url.split("://", 1)[1].split("/", 1)[0]
    return await connect(
        url,
        origin=Origin(origin),
        additional_headers=headers,
        compression=None,
        ping_interval=None,  # the page pings with frames (``ping`` / ``pong``)
        open_timeout=60,
        close_timeout=2,
        max_size=2**24,
        proxy=None,
    )


async def _send(connection: ClientConnection, frame: dict[str, Any]) -> None:
    await connection.send(orjson.dumps(frame).decode())


async def _wait_for(connection: ClientConnection, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(60):
        while True:
            frame: dict[str, Any] = orjson.loads(await connection.recv())
            if frame.get("type") == kind:
                return frame
            if frame.get("type") == "error":
                raise RuntimeError(f"error frame while waiting for {kind}: {frame}")
