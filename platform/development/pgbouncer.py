"""A real PgBouncer process in front of a PostgreSQL database, for tests and local stacks.

The configuration written here is the production one in miniature (infra/pgbouncer): pool
mode ``transaction`` unless asked otherwise, clients on 127.0.0.1 only, no Unix socket. The
client side uses ``trust`` (only this machine can reach the port); PgBouncer logs in to
PostgreSQL as the URL's user, with its password when the URL has one.

PgBouncer refuses to run as root; as root it is started with ``-u`` and a plain account
(``nobody``). Everything it needs is read before it drops its privileges, and it writes no
file itself: its log goes to stderr, which this process sends to ``pgbouncer.log`` in the
work folder. So the folder may be private to root (a pytest temporary folder is). A reload
(SIGHUP) would then fail to re-read the files; :class:`PgBouncer` restarts nothing anyway.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

FALLBACK_BINARY = Path("/usr/sbin/pgbouncer")  # Debian's place, often not on a user's PATH
UNPRIVILEGED_USER = "nobody"


class PgBouncerError(RuntimeError):
    """PgBouncer is missing, or did not start."""


def pgbouncer_binary() -> Path | None:
    found = shutil.which("pgbouncer")
    if found:
        return Path(found)
    return FALLBACK_BINARY if FALLBACK_BINARY.exists() else None


@dataclass(frozen=True)
class PoolSizes:
    """Server connections per (database, user) pair, and client connections in all.
    ``default_pool_size`` is what PostgreSQL sees at most from this PgBouncer."""

    default_pool_size: int = 20
    max_client_conn: int = 200
    reserve_pool_size: int = 0


@dataclass
class PgBouncer:
    """A running PgBouncer; :meth:`url` addresses the database through it."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    database: str  # the name clients use; PgBouncer maps it to the real database
    user: str
    workdir: Path

    def url(self, *, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "pgbouncer.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 10) -> None:
        """Immediate shutdown (SIGTERM: clients are disconnected), then wait for the exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)


def start_pgbouncer(
    workdir: Path,
    listen_port: int,
    database_url: str,
    *,
    database: str = "clb",
    pool_mode: Literal["transaction", "session"] = "transaction",
    sizes: PoolSizes | None = None,
    listen_host: str = "127.0.0.1",
    ready_seconds: float = 30,
) -> PgBouncer:
    """Start PgBouncer on ``listen_host:listen_port``, serving ``database_url``'s database
    under the name ``database``; returns once it accepts connections. The caller stops it."""
    binary = pgbouncer_binary()
    if binary is None:
        raise PgBouncerError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    target = urlsplit(database_url)
    user = unquote(target.username or "postgres")
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "userlist.txt").write_text(f'"{user}" ""\n')
    config = workdir / "pgbouncer.ini"
    config.write_text(
        _config_text(workdir, listen_host, listen_port, database, database_url, pool_mode, sizes)
    )
    command = [str(binary), *_run_as_arguments(), str(config)]
    with open(workdir / "pgbouncer.log", "ab") as log:  # noqa: PTH123 - a handle for Popen
        process = subprocess.Popen(  # noqa: S603 - our own binary and config
            command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir
        )
    bouncer = PgBouncer(process, listen_host, listen_port, database, user, workdir)
    try:
        _wait_for_port(bouncer, ready_seconds)
    except BaseException:
        bouncer.stop()
        raise
    return bouncer


def _config_text(
    workdir: Path,
    host: str,
    port: int,
    database: str,
    database_url: str,
    pool_mode: str,
    sizes: PoolSizes | None,
) -> str:
    sizes = sizes or PoolSizes()
    target = urlsplit(database_url)
    # A Unix socket folder may come as ?host=/path (libpq's form) instead of a host name.
    socket_folder = parse_qs(target.query).get("host", [""])[0]
    server = [
        f"host={socket_folder or target.hostname or '127.0.0.1'}",
        f"port={target.port or 5432}",
        f"dbname={target.path.lstrip('/') or 'postgres'}",
        f"user={unquote(target.username or 'postgres')}",
    ]
    if target.password:
        server.append(f"password={unquote(target.password)}")
    lines = [
        "[databases]",
        f"{database} = {' '.join(server)}",
        "",
        "[pgbouncer]",
        f"listen_addr = {host}",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "auth_type = trust",
        f"auth_file = {workdir / 'userlist.txt'}",
        f"pool_mode = {pool_mode}",
        f"default_pool_size = {sizes.default_pool_size}",
        "min_pool_size = 0",
        f"reserve_pool_size = {sizes.reserve_pool_size}",
        f"max_client_conn = {sizes.max_client_conn}",
        # Only used in session mode: what the previous client left behind goes.
        "server_reset_query = DISCARD ALL",
        # Clients queue for a server connection rather than fail at once; a test's
        # burst waits, a stuck server still shows up as an error.
        "query_wait_timeout = 60",
        "server_connect_timeout = 5",
        "server_login_retry = 1",
        # A dead client's transaction must not keep one of the few server connections.
        "idle_transaction_timeout = 60",
        "log_connections = 0",
        "log_disconnections = 0",
        "",
    ]
    return "\n".join(lines)


def _run_as_arguments() -> list[str]:
    """``-u nobody`` as root (PgBouncer refuses root); nothing otherwise."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise PgBouncerError(
            f"running as root and there is no user {UNPRIVILEGED_USER!r} to run PgBouncer as"
        ) from None
    return ["-u", UNPRIVILEGED_USER]


def _wait_for_port(bouncer: PgBouncer, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if bouncer.process.poll() is not None:
            raise PgBouncerError(
                f"pgbouncer exited with code {bouncer.process.returncode}:\n{bouncer.log()[-2000:]}"
            )
        try:
            with socket.create_connection((bouncer.host, bouncer.port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise PgBouncerError(f"pgbouncer did not listen on {bouncer.port} within {seconds} s")
