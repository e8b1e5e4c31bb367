"""Moving this process's chat sockets elsewhere when it shuts down (SIGTERM).

Every open socket is asked to reconnect with 1012 ("service restart"); the page reconnects
through the load balancer to another instance and resumes from its last seq, sending again
what was never acked. The requests go out spread over a short time, so the sockets of one
instance do not all land on the others in the same instant. See docs/chat-protocol.md.
"""

from __future__ import annotations

import asyncio
import math

from chat.realtime.connection import CLOSE_RESTART, Connection
from clb.services import Services

# The spread goes in steps this long: fine enough to be even, coarse enough to stay cheap.
STEP_SECONDS = 0.05
# At the end of the time given, sockets still busy are closed without their answer; this
# long is kept for those closes to go out.
FORCED_CLOSE_SECONDS = 1.0


class LiveSockets:
    """The chat sockets open in this process (visitor, console, supervision)."""

    KEY = "chat.live_sockets"

    def __init__(self) -> None:
        self.connections: set[Connection] = set()
        self.restarting = False
        self._empty = asyncio.Event()
        self._empty.set()

    @classmethod
    def of(cls, services: Services) -> LiveSockets:
        live = services.local.get(cls.KEY)
        if live is None:
            live = services.local[cls.KEY] = cls()
        assert isinstance(live, LiveSockets)  # noqa: S101 - one type under this key
        return live

    def add(self, connection: Connection) -> None:
        self.connections.add(connection)
        self._empty.clear()
        if self.restarting:  # opened just as the shutdown began: off it goes too
            connection.restart()

    def discard(self, connection: Connection) -> None:
        self.connections.discard(connection)
        if not self.connections:
            self._empty.set()

    async def restart_all(self, spread: float) -> None:
        """Ask every socket to reconnect, in even slices over ``spread`` seconds."""
        self.restarting = True
        waiting = list(self.connections)
        steps = max(1, int(spread / STEP_SECONDS))
        per_step = max(1, math.ceil(len(waiting) / steps))
        loop = asyncio.get_running_loop()
        started = loop.time()
        for step, first in enumerate(range(0, len(waiting), per_step)):
            await asyncio.sleep(max(0.0, started + step * spread / steps - loop.time()))
            for connection in waiting[first : first + per_step]:
                connection.restart()

    async def closed(self, within: float) -> bool:
        """Wait until every socket has finished (its last answer sent, then the close);
        False when some are still open after ``within`` seconds."""
        try:
            await asyncio.wait_for(self._empty.wait(), max(within, 0.0))
        except TimeoutError:
            return False
        return True

    def close_now(self) -> None:
        """The grace is running out: close what is left without waiting for an answer
        (a message not acked is sent again by its page, and stored once)."""
        for connection in list(self.connections):
            connection.close(CLOSE_RESTART, "service restart")


async def restart_sockets(services: Services, spread: float, within: float) -> bool:
    """Move every chat socket of this process elsewhere within ``within`` seconds; True
    when all of them finished in time."""
    live = LiveSockets.of(services)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    await live.restart_all(min(spread, within / 2))
    if await live.closed(deadline - FORCED_CLOSE_SECONDS - loop.time()):
        return True
    live.close_now()
    return await live.closed(deadline - loop.time())
