"""A production-like stack on one machine (``make stack``): nginx in front of two app
processes, a worker, PgBouncer in transaction mode, PostgreSQL and Redis.

The app processes and the worker reach PostgreSQL only through PgBouncer, and people reach
the app only through nginx, so what works here works behind the same pieces in production
(infra/README.md). PostgreSQL and Redis are the configured ones (``CLB_DATABASE_URL``,
``CLB_REDIS_URL``) or embedded ones in the data folder, as ``make run`` uses. nginx and
PgBouncer come from Debian's packages. Generated configurations and logs: data_dir/stack.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import FrameType

from clb.config import Settings, SettingsError, load_settings, with_secret_key
from development.mailbox import development_mailbox
from development.nginx import NginxError, start_nginx
from development.pgbouncer import PgBouncerError, start_pgbouncer

APP_PROCESSES = 2
READY_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def database_and_redis(settings: Settings) -> Iterator[tuple[str, str]]:
    """The configured PostgreSQL and Redis URLs, or embedded servers' for the block."""
    if not settings.embedded:
        yield settings.service_urls()
        return
    from development.embedded import start_embedded

    embedded = start_embedded(settings.data_dir)
    try:
        database_url = settings.database_url or embedded.database_url
        yield database_url, settings.redis_url or embedded.redis_url
    finally:
        embedded.stop()


def clb(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "composition", *args], env=env)  # noqa: S603


def run_once(*args: str, env: dict[str, str]) -> None:
    if clb(*args, env=env).wait() != 0:
        raise SettingsError(f"`clb {' '.join(args)}` failed; see the lines above")


def wait_until_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SettingsError(f"the app process on port {port} stopped at start")
        with contextlib.suppress(OSError, urllib.error.URLError):
            url = f"http://127.0.0.1:{port}/readyz"
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - our own
                if answer.status == 200:
                    return
        time.sleep(0.2)
    raise SettingsError(f"the app process on port {port} was not ready in {READY_SECONDS} s")


def process_env(settings: Settings, database_url: str, redis_url: str) -> dict[str, str]:
    """What every app and worker process of the stack gets: PgBouncer, not PostgreSQL."""
    env = {
        **os.environ,
        "CLB_DATABASE_URL": database_url,
        "CLB_DATABASE_POOLING": "transaction",
        "CLB_REDIS_URL": redis_url,
        "CLB_SECRET_KEY": settings.secret_key or "",
        "CLB_PUBLIC_URL": settings.public_url,
        "CLB_MIGRATE_ON_START": "false",
        # As under `make run`: the chat can be tried at any hour.
        "CLB_CHAT_ALWAYS_OPEN": os.environ.get("CLB_CHAT_ALWAYS_OPEN", "true"),
    }
    if settings.smtp_url:
        env["CLB_SMTP_URL"] = settings.smtp_url
    if settings.dev_mailbox_dir:
        env["CLB_DEV_MAILBOX_DIR"] = str(settings.dev_mailbox_dir)
    return env


def run_stack(settings: Settings, port: int) -> None:
    folder = (settings.data_dir / "stack").resolve()
    with contextlib.ExitStack() as stack:
        database_url, redis_url = stack.enter_context(database_and_redis(settings))
        settings = stack.enter_context(development_mailbox(settings))
        bouncer = start_pgbouncer(folder / "pgbouncer", free_port(), database_url)
        stack.callback(bouncer.stop)
        env = process_env(settings, bouncer.url(driver="postgresql"), redis_url)
        run_once("migrate", env=env)
        run_once("demo", env=env)
        processes: list[subprocess.Popen[bytes]] = []
        stack.callback(stop_all, processes)
        app_ports = [free_port() for _ in range(APP_PROCESSES)]
        for app_port in app_ports:
            processes.append(clb("serve", "--port", str(app_port), env=env))
        processes.append(clb("worker", env=env))
        for app_port, process in zip(app_ports, processes, strict=False):
            wait_until_ready(app_port, process)
        nginx = start_nginx(folder / "nginx", port, [f"127.0.0.1:{p}" for p in app_ports])
        stack.callback(nginx.stop)
        announce(settings, bouncer.port, app_ports)
        wait_for_stop(processes)


def announce(settings: Settings, bouncer_port: int, app_ports: list[int]) -> None:
    url = settings.public_url.rstrip("/") + "/"
    print(f"\nCLB-platform (production-like stack) is running: open {url}", flush=True)
    print(f"Staff console: {url}console   Mailbox: {url}dev/postvak", flush=True)
    ports = ", ".join(str(p) for p in app_ports)
    print(f"nginx -> app processes on {ports} -> PgBouncer on {bouncer_port} -> PostgreSQL")
    logins = settings.data_dir / "demo-logins.txt"
    if logins.exists():
        print("Demo staff logins (demo only):\n" + logins.read_text(), flush=True)
    print("Stop with Ctrl+C.", flush=True)


def wait_for_stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Until Ctrl+C or SIGTERM, or until one process dies (then say which and stop all)."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        print("A process of the stack stopped; stopping the rest.", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nStopping.", flush=True)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=40)  # a graceful shutdown takes up to its grace period
        except subprocess.TimeoutExpired:
            process.kill()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m development.stack", description=__doc__)
    parser.add_argument("--port", type=int, default=8080, help="where nginx listens")
    args = parser.parse_args(argv)
    try:
        settings = with_secret_key(load_settings())
        if settings.env == "production":
            raise SettingsError("the stack is for trying things out; see infra/README.md")
        if "CLB_PUBLIC_URL" not in os.environ:
            settings = settings.model_copy(update={"public_url": f"http://127.0.0.1:{args.port}"})
        run_stack(settings, args.port)
    except (SettingsError, PgBouncerError, NginxError) as error:
        print(f"clb stack: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
