"""A python-socketio chat server and a lightweight client for it: the benchmark's peer.

This is a reference point for the chat comparison (``tests/bench/chat_compare.py``), the
server a competent Python developer would write with python-socketio: ``AsyncRedisManager``
between the processes, every message persisted with asyncpg before its ack. It is a
benchmark peer, not part of the product.

Server: ``python -m tests.bench.peer_socketio --port P --database-url postgresql://...
--redis-url redis://... --prefix X`` (the tables come from ``create_schema`` first).

Client: ``PeerClient`` speaks the Engine.IO v4 / Socket.IO v5 wire protocol by hand over one
``websockets`` connection, so that hundreds of them fit in one load generator process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import orjson
import socketio  # type: ignore[import-untyped]
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

OnEvent = Callable[[str, dict[str, Any]], None]

ROLES = frozenset({"visitor", "counsellor"})
MAX_BODY = 4000
SOCKETIO_PATH = "/socket.io/?EIO=4&transport=websocket"


def _tables(prefix: str) -> tuple[str, str]:
    """The two table names; the prefix goes into SQL text, so it must be a plain name."""
    if not prefix.isidentifier() or not prefix.isascii() or len(prefix) > 48:
        raise ValueError(f"bad table prefix: {prefix!r}")
    return f"{prefix}_conversations", f"{prefix}_messages"


async def create_schema(dsn: str, prefix: str) -> None:
    """Create the peer's two tables (called once by the bench, before any server starts)."""
    conversations, messages = _tables(prefix)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            f"""
            CREATE TABLE IF NOT EXISTS {conversations} (
                id uuid PRIMARY KEY,
                last_seq int NOT NULL DEFAULT 0
            );
            CREATE TABLE IF NOT EXISTS {messages} (
                conversation_id uuid NOT NULL,
                seq int NOT NULL,
                sender text NOT NULL,
                body text NOT NULL,
                client_msg_id uuid NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (conversation_id, seq),
                UNIQUE (conversation_id, sender, client_msg_id)
            );
            """
        )
    finally:
        await connection.close()


async def drop_schema(dsn: str, prefix: str) -> None:
    """Drop the peer's tables."""
    conversations, messages = _tables(prefix)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f"DROP TABLE IF EXISTS {messages}, {conversations}")
    finally:
        await connection.close()


def _error(reason: str) -> dict[str, Any]:
    return {"error": reason}


class PeerServer:
    """The Socket.IO server: one room per conversation, Redis between the processes."""

    def __init__(self, dsn: str, redis_url: str, prefix: str) -> None:
        conversations, messages = _tables(prefix)
        self.dsn = dsn
        self.pool: Any = None
        self.next_seq_sql = (
            f"UPDATE {conversations} SET last_seq = last_seq + 1 "  # noqa: S608
            "WHERE id = $1 RETURNING last_seq"
        )
        self.insert_sql = (
            f"INSERT INTO {messages} "  # noqa: S608
            "(conversation_id, seq, sender, body, client_msg_id) VALUES ($1, $2, $3, $4, $5)"
        )
        self.stored_sql = (
            f"SELECT seq FROM {messages} "  # noqa: S608
            "WHERE conversation_id = $1 AND sender = $2 AND client_msg_id = $3"
        )
        self.sio: Any = socketio.AsyncServer(
            async_mode="asgi",
            client_manager=socketio.AsyncRedisManager(redis_url, channel=prefix),
        )
        self.sio.on("connect", handler=self.on_connect)
        self.sio.on("send", handler=self.on_send)
        self.sio.on("typing", handler=self.on_typing)
        self.sio.on("read", handler=self.on_read)
        self.sio.on("ping", handler=self.on_ping)
        self.app: Any = socketio.ASGIApp(
            self.sio, on_startup=self.startup, on_shutdown=self.shutdown
        )

    async def startup(self) -> None:
        self.pool = await asyncpg.create_pool(self.dsn, min_size=5, max_size=20)

    async def shutdown(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any) -> bool:
        if not isinstance(auth, dict):
            return False
        conversation, role = auth.get("conversation"), auth.get("role")
        if not isinstance(conversation, str) or role not in ROLES:
            return False
        try:
            conversation_id = uuid.UUID(conversation)
        except ValueError:
            return False
        room = str(conversation_id)
        session = {"room": room, "conversation_id": conversation_id, "role": role}
        await self.sio.save_session(sid, session)
        await self.sio.enter_room(sid, room)
        return True

    async def on_send(self, sid: str, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            return _error("bad payload")
        client_msg_id, body, t = data.get("client_msg_id"), data.get("body"), data.get("t")
        if not isinstance(client_msg_id, str) or not isinstance(body, str):
            return _error("bad payload")
        if isinstance(t, bool) or not isinstance(t, int | float):
            return _error("bad payload")
        if not body or len(body) > MAX_BODY:
            return _error("bad body")
        try:
            msg_id = uuid.UUID(client_msg_id)
        except ValueError:
            return _error("bad client_msg_id")
        session = await self.sio.get_session(sid)
        conversation_id, role = session["conversation_id"], session["role"]
        try:
            async with self.pool.acquire() as connection, connection.transaction():
                seq = await connection.fetchval(self.next_seq_sql, conversation_id)
                if seq is None:
                    return _error("unknown conversation")
                await connection.execute(self.insert_sql, conversation_id, seq, role, body, msg_id)
        except asyncpg.UniqueViolationError:
            # A resend: the transaction rolled back, the first copy keeps its seq.
            stored = await self.pool.fetchval(self.stored_sql, conversation_id, role, msg_id)
            return {"seq": stored}
        message = {
            "seq": seq,
            "body": body,
            "sender": role,
            "client_msg_id": client_msg_id,
            "t": t,
        }
        await self.sio.emit("message", message, room=session["room"], skip_sid=sid)
        return {"seq": seq}

    async def on_typing(self, sid: str, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("active"), bool):
            return
        session = await self.sio.get_session(sid)
        typing = {"active": data["active"], "by": session["role"]}
        await self.sio.emit("typing", typing, room=session["room"], skip_sid=sid)

    async def on_read(self, sid: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        seq = data.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int):
            return
        session = await self.sio.get_session(sid)
        receipt = {"seq": seq, "by": session["role"]}
        await self.sio.emit("receipt", receipt, room=session["room"], skip_sid=sid)

    async def on_ping(self, sid: str, data: Any = None) -> str:
        return "pong"


_PING = object()  # the pending-ack marker of a ping


class PeerClient:
    """One socket of one chat over the Socket.IO wire protocol. Incoming events become
    ``on_event(kind, data)`` with kind ``message``, ``ack``, ``typing``, ``receipt``,
    ``pong`` or ``error``."""

    def __init__(self, connection: ClientConnection, on_event: OnEvent) -> None:
        self.connection = connection
        self.on_event = on_event
        self.ack_ids = itertools.count()
        self.pending: dict[int, object] = {}  # ack id -> client_msg_id or _PING
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls, base_ws_url: str, conversation: str, role: str, on_event: OnEvent
    ) -> PeerClient:
        connection = await connect(
            base_ws_url.rstrip("/") + SOCKETIO_PATH,
            compression=None,
            ping_interval=None,  # Engine.IO pings with its own packets
            open_timeout=60,
            close_timeout=2,
            max_size=2**24,
            proxy=None,
        )
        try:
            async with asyncio.timeout(60):
                opening = await connection.recv()
                if not isinstance(opening, str) or not opening.startswith("0"):
                    raise RuntimeError(f"unexpected Engine.IO open packet: {opening!r}")
                auth = {"conversation": conversation, "role": role}
                await connection.send("40" + orjson.dumps(auth).decode())
                while True:
                    packet = await connection.recv()
                    if not isinstance(packet, str):
                        continue
                    if packet == "2":
                        await connection.send("3")
                    elif packet.startswith("40"):
                        break
                    elif packet.startswith("44"):
                        raise RuntimeError(f"connection refused: {packet[2:]}")
        except BaseException:
            await connection.close()
            raise
        return cls(connection, on_event)

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for packet in self.connection:
                if not isinstance(packet, str) or not packet:
                    continue
                kind = packet[0]
                if kind == "2":  # Engine.IO ping
                    await self.connection.send("3")
                elif kind == "4":
                    self._dispatch(packet[1:])
                elif kind == "1":  # Engine.IO close
                    break

    def _dispatch(self, packet: str) -> None:
        """Handle one Socket.IO packet (the Engine.IO message type already stripped)."""
        if not packet:
            return
        kind, rest = packet[0], packet[1:]
        if rest.startswith("/"):  # a namespace other than the default one
            rest = rest.split(",", 1)[1] if "," in rest else ""
        digits = 0
        while digits < len(rest) and rest[digits].isdigit():
            digits += 1
        ack_id = int(rest[:digits]) if digits else None
        if kind == "2":  # EVENT
            args = orjson.loads(rest[digits:])
            if isinstance(args, list) and len(args) >= 2 and isinstance(args[1], dict):
                name = str(args[0])
                if name in ("message", "typing", "receipt"):
                    self.on_event(name, args[1])
        elif kind == "3" and ack_id is not None:  # ACK
            marker = self.pending.pop(ack_id, None)
            if marker is _PING:
                self.on_event("pong", {})
            elif isinstance(marker, str):
                args = orjson.loads(rest[digits:])
                answer = args[0] if isinstance(args, list) and args else None
                if isinstance(answer, dict) and "seq" in answer and "error" not in answer:
                    self.on_event("ack", {"client_msg_id": marker, "seq": answer["seq"]})
                else:
                    self.on_event("error", {"client_msg_id": marker, "answer": answer})
        elif kind in ("1", "4"):  # DISCONNECT or CONNECT_ERROR
            self.on_event("error", {"packet": packet})

    async def _emit(self, name: str, data: dict[str, Any], marker: object = None) -> None:
        if marker is None:
            packet = "42" + orjson.dumps([name, data]).decode()
        else:
            ack_id = next(self.ack_ids)
            self.pending[ack_id] = marker
            packet = f"42{ack_id}" + orjson.dumps([name, data]).decode()
        await self.connection.send(packet)

    async def send_message(self, client_msg_id: str, body: str, t: float) -> None:
        data = {"client_msg_id": client_msg_id, "body": body, "t": t}
        await self._emit("send", data, client_msg_id)

    async def send_typing(self, active: bool) -> None:
        await self._emit("typing", {"active": active})

    async def send_read(self, seq: int) -> None:
        await self._emit("read", {"seq": seq})

    async def ping(self) -> None:
        await self._emit("ping", {}, _PING)

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(Exception):
            await self.connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args()
    server = PeerServer(args.database_url, args.redis_url, args.prefix)
    config = uvicorn.Config(
        server.app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        ws="websockets-sansio",
        log_level="warning",
        lifespan="on",
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
