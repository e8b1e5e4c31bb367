"""Talking to real chat servers the way browsers do: HTTP for set-up, WebSockets for chat."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import websockets
from websockets.asyncio.client import ClientConnection

from tests.conftest import TEST_PASSWORD

FORM = {"nickname": "Sam", "who": "leerling", "topic": "school", "consent": True}


def ws_url(base_url: str, path: str) -> str:
    return base_url.replace("http://", "ws://") + path


@dataclass
class Visitor:
    base_url: str
    token: str
    conversation_id: str
    # The client address the servers see (X-Forwarded-For, as behind the proxy).
    address: str | None = None

    @classmethod
    async def join(cls, base_url: str, address: str | None = None, **form: Any) -> Visitor:
        forwarded = {"x-forwarded-for": address} if address else {}
        async with httpx.AsyncClient(base_url=base_url, headers=forwarded) as http:
            token = (await http.post("/api/visitors")).json()["token"]
            response = await http.post(
                "/api/chat/conversations",
                json={**FORM, **form},
                headers={"authorization": f"Bearer {token}"},
            )
            assert response.status_code == 201, response.text
        return cls(base_url, token, response.json()["conversation_id"], address)

    async def connect(
        self,
        last_seq: int = 0,
        base_url: str | None = None,
        origin: str | None = None,
        *,
        welcome: bool = True,
    ) -> Socket:
        """A chat socket after hello; ``welcome=False`` returns before the server answers."""
        url = ws_url(base_url or self.base_url, "/ws/chat")
        forwarded = {"X-Forwarded-For": self.address} if self.address else {}
        connection = await websockets.connect(
            url,
            origin=origin or self.base_url,  # type: ignore[arg-type]
            additional_headers=forwarded,
        )
        socket = Socket(connection)
        await socket.send(
            {
                "type": "hello",
                "v": 1,
                "token": self.token,
                "conversation_id": self.conversation_id,
                "last_seq": last_seq,
            }
        )
        if welcome:
            await socket.expect("welcome")
        return socket


async def staff_cookie(base_url: str, email: str) -> str:
    """Log in through the real form; returns the Cookie header for the console socket."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        page = await http.get("/console/login")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match
        response = await http.post(
            "/console/login",
            data={"email": email, "password": TEST_PASSWORD, "csrf_token": match.group(1)},
        )
        assert response.status_code == 303, response.text
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


async def console(
    base_url: str, cookie: str, origin: str | None = None, *, on_duty: bool = True
) -> Socket:
    """An open console; ``on_duty`` sets the counsellor on duty (claims need it)."""
    connection = await websockets.connect(
        ws_url(base_url, "/ws/console"),
        origin=origin or base_url,  # type: ignore[arg-type]
        additional_headers={"Cookie": cookie},
    )
    socket = Socket(connection)
    await socket.send({"type": "hello", "v": 1})
    await socket.expect("welcome")
    await socket.expect("duty")  # the state the console starts from
    if on_duty:
        await socket.send({"type": "duty", "duty": "on_duty"})
        await socket.expect("duty", duty="on_duty")
    return socket


class Socket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.pending: list[dict[str, Any]] = []  # received, not yet asked for

    async def send(self, frame: dict[str, Any]) -> None:
        await self.connection.send(orjson.dumps(frame).decode())

    async def say(self, body: str, conversation_id: str | None = None) -> str:
        client_msg_id = str(uuid.uuid4())
        frame = {"type": "send", "client_msg_id": client_msg_id, "body": body}
        if conversation_id:
            frame["conversation_id"] = conversation_id
        await self.send(frame)
        return client_msg_id

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        """The next frame, oldest first (including ones ``expect`` passed over)."""
        if self.pending:
            return self.pending.pop(0)
        return await self._read(timeout)

    async def _read(self, timeout: float) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), timeout)
        frame: dict[str, Any] = orjson.loads(raw)
        return frame

    async def expect(self, kind: str, timeout: float = 5, **match: Any) -> dict[str, Any]:
        """The first frame of this type (and field values); others stay pending, in order."""

        def fits(frame: dict[str, Any]) -> bool:
            return frame["type"] == kind and all(frame.get(k) == v for k, v in match.items())

        for index, frame in enumerate(self.pending):
            if fits(frame):
                return self.pending.pop(index)
        async with asyncio.timeout(timeout):
            while True:
                frame = await self._read(timeout)
                if fits(frame):
                    return frame
                self.pending.append(frame)

    async def messages(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        return [await self.expect("message", timeout) for _ in range(count)]

    async def close(self) -> None:
        await self.connection.close()
