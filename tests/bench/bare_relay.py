"""A bare ``websockets`` chat relay through Redis pub/sub, and a client for it.

The floor of the chat comparison (``tests/bench/chat_compare.py``): no persistence, no
auth, JSON text frames relayed between the processes by one Redis pub/sub connection per
process. It is a benchmark peer, not part of the product.

Server: ``python -m tests.bench.bare_relay --port P --redis-url redis://... --prefix X``.

Frames from a client: ``join`` (first), ``send``, ``typing``, ``read``, ``ping``. Frames to
a client: ``joined``, ``ack``, ``pong``, ``error``, and the other sockets' ``message``,
``typing`` and ``receipt``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import signal
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import uvloop
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

OnEvent = Callable[[str, dict[str, Any]], None]

ROLES = frozenset({"visitor", "counsellor"})
MAX_BODY = 4000
JOIN_TIMEOUT = 10.0


def _dumps(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


class Room:
    """This process's sockets of one conversation."""

    def __init__(self) -> None:
        self.sockets: dict[str, ServerConnection] = {}
        self.seq = 0
        self.subscribed = asyncio.Event()


class Relay:
    """The sockets of this process, by conversation, and the process's one pub/sub."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        self.redis = Redis.from_url(redis_url)
        self.pubsub = self.redis.pubsub()
        self.prefix = prefix
        self.rooms: dict[str, Room] = {}
        self.socket_ids = itertools.count(1)
        self.pid = os.getpid()

    def channel(self, conversation: str) -> str:
        return f"{self.prefix}:{conversation}"

    async def read_pubsub(self) -> None:
        """Deliver every published frame to this process's sockets of its conversation,
        except the socket that sent it."""
        await self.pubsub.connect()
        skip = len(self.prefix) + 1
        while True:
            message = await self.pubsub.get_message(timeout=None)
            if message is None:
                continue
            conversation = message["channel"].decode()[skip:]
            room = self.rooms.get(conversation)
            if message["type"] == "subscribe":
                if room is not None:
                    room.subscribed.set()
                continue
            if message["type"] != "message" or room is None:
                continue
            envelope = orjson.loads(message["data"])
            sender = envelope["from"]
            targets = [ws for socket_id, ws in room.sockets.items() if socket_id != sender]
            if targets:
                broadcast(targets, _dumps(envelope["frame"]))

    async def join(self, conversation: str, socket_id: str, ws: ServerConnection) -> Room:
        room = self.rooms.get(conversation)
        if room is None:
            room = self.rooms[conversation] = Room()
            room.sockets[socket_id] = ws
            await self.pubsub.subscribe(self.channel(conversation))
        else:
            room.sockets[socket_id] = ws
        async with asyncio.timeout(JOIN_TIMEOUT):
            await room.subscribed.wait()
        return room

    async def leave(self, conversation: str, socket_id: str) -> None:
        room = self.rooms.get(conversation)
        if room is None:
            return
        room.sockets.pop(socket_id, None)
        if not room.sockets:
            del self.rooms[conversation]
            await self.pubsub.unsubscribe(self.channel(conversation))

    async def publish(self, conversation: str, socket_id: str, frame: dict[str, Any]) -> None:
        payload = orjson.dumps({"from": socket_id, "frame": frame})
        await self.redis.publish(self.channel(conversation), payload)

    async def handle(self, ws: ServerConnection) -> None:
        """One socket: a ``join`` frame first, then its frames until it closes."""
        try:
            async with asyncio.timeout(JOIN_TIMEOUT):
                first = orjson.loads(await ws.recv())
        except ConnectionClosed:
            return
        except (TimeoutError, orjson.JSONDecodeError):
            await ws.close(1008, "expected a join frame")
            return
        if not isinstance(first, dict) or first.get("type") != "join":
            await ws.close(1008, "bad join frame")
            return
        conversation, role = first.get("conversation"), first.get("role")
        if not isinstance(conversation, str) or role not in ROLES:
            await ws.close(1008, "bad join frame")
            return
        try:
            conversation = str(uuid.UUID(conversation))
        except ValueError:
            await ws.close(1008, "bad conversation")
            return
        socket_id = f"{self.pid}-{next(self.socket_ids)}"
        try:
            room = await self.join(conversation, socket_id, ws)
            with contextlib.suppress(ConnectionClosed):
                await ws.send(_dumps({"type": "joined"}))
                async for raw in ws:
                    try:
                        frame = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        await ws.send(_dumps({"type": "error", "reason": "bad json"}))
                        continue
                    if not isinstance(frame, dict):
                        await ws.send(_dumps({"type": "error", "reason": "bad frame"}))
                        continue
                    await self.on_frame(ws, room, conversation, socket_id, str(role), frame)
        finally:
            await self.leave(conversation, socket_id)

    async def on_frame(
        self,
        ws: ServerConnection,
        room: Room,
        conversation: str,
        socket_id: str,
        role: str,
        frame: dict[str, Any],
    ) -> None:
        kind = frame.get("type")
        if kind == "send":
            client_msg_id, body, t = frame.get("client_msg_id"), frame.get("body"), frame.get("t")
            if (
                not isinstance(client_msg_id, str)
                or not isinstance(body, str)
                or not body
                or len(body) > MAX_BODY
                or isinstance(t, bool)
                or not isinstance(t, int | float)
            ):
                await ws.send(_dumps({"type": "error", "reason": "bad send"}))
                return
            room.seq += 1
            seq = room.seq
            message = {
                "type": "message",
                "seq": seq,
                "body": body,
                "sender": role,
                "client_msg_id": client_msg_id,
                "t": t,
            }
            await self.publish(conversation, socket_id, message)
            await ws.send(_dumps({"type": "ack", "client_msg_id": client_msg_id, "seq": seq}))
        elif kind == "typing":
            active = frame.get("active")
            if isinstance(active, bool):
                typing = {"type": "typing", "active": active, "by": role}
                await self.publish(conversation, socket_id, typing)
        elif kind == "read":
            read_seq = frame.get("seq")
            if isinstance(read_seq, int) and not isinstance(read_seq, bool):
                receipt = {"type": "receipt", "seq": read_seq, "by": role}
                await self.publish(conversation, socket_id, receipt)
        elif kind == "ping":
            await ws.send(_dumps({"type": "pong"}))
        else:
            await ws.send(_dumps({"type": "error", "reason": "unknown type"}))


async def serve_relay(port: int, redis_url: str, prefix: str) -> None:
    relay = Relay(redis_url, prefix)
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    reader = asyncio.create_task(relay.read_pubsub())
    try:
        async with serve(relay.handle, "127.0.0.1", port):
            done, _ = await asyncio.wait({reader, stop}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                reader.result()  # the pub/sub reader died: fail loudly
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await relay.pubsub.aclose()
        await relay.redis.aclose()


class RelayClient:
    """One socket of one chat. Incoming frames become ``on_event(kind, data)`` with kind
    ``message``, ``ack``, ``typing``, ``receipt``, ``pong`` or ``error``."""

    def __init__(self, connection: ClientConnection, on_event: OnEvent) -> None:
        self.connection = connection
        self.on_event = on_event
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls, base_ws_url: str, conversation: str, role: str, on_event: OnEvent
    ) -> RelayClient:
        connection = await connect(
            base_ws_url.rstrip("/") + "/",
            compression=None,
            ping_interval=None,  # the bench pings with frames
            open_timeout=60,
            close_timeout=2,
            max_size=2**24,
            proxy=None,
        )
        try:
            async with asyncio.timeout(60):
                join = {"type": "join", "conversation": conversation, "role": role}
                await connection.send(_dumps(join))
                answer = orjson.loads(await connection.recv())
                if not isinstance(answer, dict) or answer.get("type") != "joined":
                    raise RuntimeError(f"unexpected answer to join: {answer!r}")
        except BaseException:
            await connection.close()
            raise
        return cls(connection, on_event)

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.connection:
                frame = orjson.loads(raw)
                if not isinstance(frame, dict):
                    continue
                kind = frame.get("type")
                if kind in ("message", "ack", "typing", "receipt", "pong", "error"):
                    self.on_event(str(kind), frame)

    async def send_message(self, client_msg_id: str, body: str, t: float) -> None:
        frame = {"type": "send", "client_msg_id": client_msg_id, "body": body, "t": t}
        await self.connection.send(_dumps(frame))

    async def send_typing(self, active: bool) -> None:
        await self.connection.send(_dumps({"type": "typing", "active": active}))

    async def send_read(self, seq: int) -> None:
        await self.connection.send(_dumps({"type": "read", "seq": seq}))

    async def ping(self) -> None:
        await self.connection.send(_dumps({"type": "ping"}))

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(Exception):
            await self.connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    uvloop.run(serve_relay(args.port, args.redis_url, args.prefix))


if __name__ == "__main__":
    main()
