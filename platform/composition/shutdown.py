"""How ``clb serve`` stops on SIGTERM (or Ctrl+C): it drains instead of dropping.

Uvicorn's own shutdown sends every WebSocket 1012 in the same instant and then waits for
the app without a bound. Here, in order: /readyz answers 503 from the signal on; the
listening sockets close (no new connections); idle HTTP connections close, busy ones after
their response; every chat socket is asked to reconnect elsewhere (1012), spread over
``shutdown_spread_seconds``, each once the frame in hand is answered (a message being stored
is acked first); requests still running may finish; then the app's own shutdown writes what
is buffered (receipt marks, the bus's queued events) and closes its pools. All within
``shutdown_grace_seconds``: what is still running then is cancelled, and the process exits.
See docs/chat-protocol.md (close codes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI

from chat.realtime.restart import restart_sockets
from clb.config import Settings

log = logging.getLogger(__name__)

# The app's own shutdown (receipt marks, bus, pools) needs a few seconds of the grace.
APP_SHUTDOWN_SHARE = 0.2
APP_SHUTDOWN_MAX = 5.0


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI, settings: Settings) -> None:
        super().__init__(config)
        self.app = app
        self.grace = settings.shutdown_grace_seconds
        self.spread = settings.shutdown_spread_seconds

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # In the signal handler itself: a probe that comes in before the loop next looks at
        # should_exit already hears 503.
        self.app.state.draining = True
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.grace
        self.app.state.draining = True
        log.info("shutting down: draining within %.0f s", self.grace)
        self._stop_accepting(sockets)
        reserve = min(APP_SHUTDOWN_MAX, self.grace * APP_SHUTDOWN_SHARE)
        await self._drain(deadline - reserve)
        if self.force_exit:  # a second Ctrl+C: no more waiting
            return
        try:
            async with asyncio.timeout(max(deadline - loop.time(), 0.1)):
                await self.lifespan.shutdown()
        except TimeoutError:
            log.error("the app's shutdown did not finish within the grace; exiting anyway")

    def _stop_accepting(self, sockets: list[socket.socket] | None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        sockets_class = self.config.ws_protocol_class
        for connection in list(self.server_state.connections):
            if sockets_class is None or not isinstance(connection, sockets_class):
                connection.shutdown()  # HTTP: closed now when idle, else after its response

    async def _drain(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        services = getattr(self.app.state, "services", None)
        if services is not None:
            started = loop.time()
            moved = await restart_sockets(services, self.spread, until - loop.time())
            if not moved:
                log.warning("chat sockets still open at the end of the grace: closed")
            log.info("chat sockets moved in %.1f s", loop.time() - started)
        # Sockets the chat does not know (none today) get uvicorn's own 1012; the chat's
        # closed ones lose their transport without waiting for the page's answer.
        for connection in list(self.server_state.connections):
            connection.shutdown()
        # Requests (and sockets) still running may finish, until the deadline.
        while not self.force_exit and (running := set(self.server_state.tasks)):
            left = until - loop.time()
            if left <= 0:
                break
            await asyncio.wait(running, timeout=min(left, 0.2))
        if self.server_state.tasks:
            log.error("cancelling %d requests still running", len(self.server_state.tasks))
            for task in list(self.server_state.tasks):
                task.cancel()
        for server in self.servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 1)
        log.info("requests done; the app's shutdown follows")
