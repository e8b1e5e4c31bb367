"""The development mailbox: mail and SMS the platform sends in development, kept as files.

``clb run`` (and ``clb serve`` / ``clb worker`` on embedded servers) start a small SMTP
server on 127.0.0.1 when ``CLB_SMTP_URL`` is not set, point the platform at it and store
every message it receives as ``<dev_mailbox_dir>/<UTC timestamp>-<random>.eml``
(clb.message_folder); the SMS default (clb.sms) records ``.sms`` files into the same folder.
Several processes may each run a server: they all write into the one folder, which
``/dev/postvak`` shows (development.mailbox_pages).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller

from clb.message_folder import ENTRY_NAME, store_mail
from clb.worker import PeriodicJob

if TYPE_CHECKING:
    from clb.config import Settings
    from clb.services import Services

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024


# --- The SMTP server -----------------------------------------------------------------


class _StoringHandler:
    """aiosmtpd handler: every accepted message becomes one ``.eml`` file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        store_mail(self.folder, data, datetime.now(UTC))
        return "250 Message stored in the development mailbox"


class _BoundController(Controller):
    """aiosmtpd's threaded server on a socket bound beforehand: with port 0 the system picks
    a free port, with no window in which another process could take it."""

    def __init__(self, handler: Any, sock: socket.socket, **kwargs: Any) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self._sock = sock

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


class DevMailbox:
    """An SMTP server on 127.0.0.1 (in its own thread) that stores what it receives."""

    def __init__(self, folder: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.folder = folder
        self.host = host
        self.port = port  # 0: a free one, known once started
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        if self._controller is None:
            raise RuntimeError("the development mailbox is not running")
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # aiosmtpd narrates every envelope (sender and recipient addresses) at INFO.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((self.host, self.port))
            controller = _BoundController(
                _StoringHandler(self.folder),
                sock,
                server_hostname="clb-dev-mailbox",
                data_size_limit=MAX_MESSAGE_BYTES,
            )
            controller.start()
        except BaseException:
            sock.close()
            raise
        self.port = controller.port
        self._controller = controller
        log.info("development mailbox started", extra={"smtp_port": self.port})

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> DevMailbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def development_mailbox(settings: Settings) -> Iterator[Settings]:
    """Settings whose mail goes to a development mailbox started here, unless an SMTP
    server is configured or this is production (then the settings come back unchanged)."""
    if settings.smtp_url is not None or settings.env == "production":
        yield settings
        return
    folder = (settings.dev_mailbox_dir or settings.data_dir / "mailbox").resolve()
    with DevMailbox(folder) as mailbox:
        yield settings.model_copy(update={"smtp_url": mailbox.url, "dev_mailbox_dir": folder})


# --- Retention -----------------------------------------------------------------------


def purge_folder(folder: Path, cutoff: datetime) -> int:
    """Delete the recorded messages received before ``cutoff`` (by the time in their name;
    files of any other name are left alone); returns how many went."""
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        match = ENTRY_NAME.fullmatch(path.name)
        if match is None:
            continue
        received = datetime.strptime(match["stamp"], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
        if received < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


async def purge_dev_mailbox(ctx: dict[str, Any]) -> int:
    """Retention: messages older than ``retention_dev_mailbox_days`` leave the development
    mailbox (only where one is set: never in production)."""
    services: Services = ctx["services"]
    settings = services.settings
    if settings.dev_mailbox_dir is None:
        return 0
    cutoff = datetime.now(UTC) - timedelta(days=settings.retention_dev_mailbox_days)
    return await asyncio.to_thread(purge_folder, settings.dev_mailbox_dir, cutoff)


DEV_MAILBOX_RETENTION = PeriodicJob(purge_dev_mailbox, hour={3}, minute=57, timeout=600)
