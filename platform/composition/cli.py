"""The ``clb`` command: serve, worker, migrate, demo, create-user, and run (all in one)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import getpass
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from clb.config import Settings, SettingsError, load_settings, with_secret_key
from clb.web.observability import configure_logging


@contextlib.contextmanager
def running_services(settings: Settings, *, mailbox: bool = False) -> Iterator[Settings]:
    """Settings with real URLs: the configured servers, or embedded ones started here.

    With ``mailbox`` (the long-running commands), an embedded set-up without
    ``CLB_SMTP_URL`` also gets a development mailbox in data_dir/mailbox: a ``clb serve``
    and a ``clb worker`` started apart each run one, and both store into that folder.
    """
    if not settings.embedded:
        yield settings
        return
    from development.embedded import start_embedded
    from development.mailbox import development_mailbox

    embedded = start_embedded(settings.data_dir)
    try:
        resolved = settings.model_copy(
            update={
                "database_url": settings.database_url
                or "postgresql+asyncpg://" + embedded.database_url.split("://", 1)[1],
                "redis_url": settings.redis_url or embedded.redis_url,
            }
        )
        if not mailbox:
            yield resolved
            return
        with development_mailbox(resolved) as resolved:
            yield resolved
    finally:
        embedded.stop()


def mailbox_notice(settings: Settings, base_url: str) -> str | None:
    """The line that points to the development mailbox, when this process has one."""
    if settings.dev_mailbox_dir is None or settings.env == "production":
        return None
    where = [f"files in {settings.dev_mailbox_dir}"]
    if settings.smtp_url:
        smtp = urlsplit(settings.smtp_url)  # host and port only, never credentials
        where.insert(0, f"SMTP {smtp.hostname}:{smtp.port}")
    return (
        f"Development mailbox (mail and SMS are kept, not sent): {base_url}dev/postvak "
        f"({', '.join(where)})"
    )


MAX_FRAME_BYTES = 64 * 1024


def run_async(main: Coroutine[Any, Any, None]) -> None:
    """Run the server on uvloop when installed (uvicorn[standard] brings it): asyncio.run
    alone would bypass uvicorn's own loop choice."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


async def _migrate(settings: Settings) -> None:
    from composition.migrate import migrate

    await migrate(settings.service_urls()[0], pooling=settings.database_pooling)


def settle_garbage_collector() -> None:
    """Once the app is up: move everything loaded so far (modules, the app, pools) out of the
    collector's sight, and collect the youngest generation less often. A full collection
    walks every live object; with thousands of sockets held that pause showed up as the
    slowest messages (the p99), not as throughput."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


async def _serve(settings: Settings, host: str, port: int, on_ready: Callable[[], None]) -> None:
    import uvicorn

    from composition.app import create_app
    from composition.shutdown import GracefulServer

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ws="websockets-sansio",
        # Per-message deflate costs ~300 KiB per socket in uvicorn; chat frames are small.
        ws_per_message_deflate=False,
        # Protocol limit: a larger frame closes the socket with 1009 (docs/chat-protocol.md).
        ws_max_size=MAX_FRAME_BYTES,
        log_config=None,
        proxy_headers=True,
        server_header=False,
        lifespan="on",
    )
    # SIGTERM drains within settings.shutdown_grace_seconds (composition.shutdown).
    server = GracefulServer(config, app, settings)

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.05)
        settle_garbage_collector()
        on_ready()

    announcer = asyncio.create_task(announce())
    try:
        await server.serve()
    finally:
        announcer.cancel()
    if not server.started:
        raise SystemExit(f"Could not serve on {host}:{port} (is the port already in use?)")


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    with running_services(settings, mailbox=True) as settings:
        if settings.migrate_on_start:
            asyncio.run(_migrate(settings))
        url = f"http://{args.host}:{args.port}/"
        notice = mailbox_notice(settings, url)

        def ready() -> None:
            print(f"Serving on {url}", flush=True)
            if notice:
                print(notice, flush=True)

        run_async(_serve(settings, args.host, args.port, ready))


def cmd_worker(settings: Settings, args: argparse.Namespace) -> None:
    from composition.worker import run_worker

    with running_services(settings, mailbox=True) as settings:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(run_worker(settings))


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> None:
    with running_services(settings) as settings:
        asyncio.run(_migrate(settings))
    print("Database is up to date.")


async def _load_demo(settings: Settings) -> list[str] | None:
    from clb.db import create_engine, create_sessionmaker, transaction
    from development.demo import demo_loaded, load_demo

    engine = create_engine(settings.service_urls()[0], pooling=settings.database_pooling)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            if await demo_loaded(session):
                return None
            logins = await load_demo(session)
    finally:
        await engine.dispose()
    return [f"  {login.email:42} {login.password:18} {', '.join(login.roles)}" for login in logins]


def demo_logins_file(settings: Settings) -> Path:
    return settings.data_dir / "demo-logins.txt"


def load_demo_once(settings: Settings) -> bool:
    """Load the demo set into an empty database and keep its logins; False if data existed."""
    lines = asyncio.run(_load_demo(settings))
    if lines is None:
        return False
    path = demo_logins_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n")
    return True


def cmd_demo(settings: Settings, args: argparse.Namespace) -> None:
    if settings.env == "production":
        raise SettingsError("The demo set cannot be loaded when CLB_ENV=production.")
    with running_services(settings) as settings:
        asyncio.run(_migrate(settings))
        if not load_demo_once(settings):
            print("The database already has data; the demo set was not loaded again.")
            return
    print("Demo loaded. Staff logins (demo only):\n" + demo_logins_file(settings).read_text())


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> None:
    from clb.users import create_staff_account

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    with running_services(settings) as settings:
        asyncio.run(
            create_staff_account(
                settings.service_urls()[0],
                pooling=settings.database_pooling,
                email=args.email,
                full_name=args.name,
                display_name=args.display_name or args.name.split()[0],
                centre_slug=args.centre,
                roles=args.role,
                password=password,
            )
        )
    print(f"Account {args.email} created.")


def cmd_import_schools(settings: Settings, args: argparse.Namespace) -> None:
    """The department's CLB and school lists into the database (docs/school-lists.md)."""
    from clb.org.list_import_command import run_import

    with running_services(settings) as settings:
        code = asyncio.run(run_import(settings.service_urls()[0], args, settings.database_pooling))
    if code:
        raise SystemExit(code)


def cmd_run(settings: Settings, args: argparse.Namespace) -> None:
    """Everything a newcomer needs in one go: servers, schema, demo data, worker, app."""
    if settings.env == "production":
        raise SettingsError("`clb run` is for development; use `clb serve` and `clb worker`.")
    # A newcomer should be able to try the chat at any hour; the schedule is one setting away.
    always_open = "CLB_CHAT_ALWAYS_OPEN" not in os.environ or settings.chat_always_open
    settings = settings.model_copy(
        update={"chat_always_open": always_open, "public_url": development_url(settings, args)}
    )
    from development.mailbox import development_mailbox

    with running_services(settings) as settings, development_mailbox(settings) as settings:
        asyncio.run(_migrate(settings))
        load_demo_once(settings)
        database_url, redis_url = settings.service_urls()
        env = {
            **os.environ,
            "CLB_DATABASE_URL": database_url,
            "CLB_REDIS_URL": redis_url,
            "CLB_SECRET_KEY": settings.secret_key or "",
            "CLB_PUBLIC_URL": settings.public_url,
        }
        # The worker sends through this process's mailbox (or the configured server).
        if settings.smtp_url:
            env["CLB_SMTP_URL"] = settings.smtp_url
        if settings.dev_mailbox_dir:
            env["CLB_DEV_MAILBOX_DIR"] = str(settings.dev_mailbox_dir)
        worker = subprocess.Popen([sys.executable, "-m", "composition", "worker"], env=env)  # noqa: S603
        url = settings.public_url.rstrip("/") + "/"
        notice = mailbox_notice(settings, url)

        def ready() -> None:
            logins = demo_logins_file(settings)
            print(f"\nCLB-platform is running: open {url}", flush=True)
            print(f"Staff console: {url}console   API docs: {url}docs", flush=True)
            if notice:
                print(notice, flush=True)
            if always_open:
                print(
                    "The chat is open at all hours in this run "
                    "(CLB_CHAT_ALWAYS_OPEN=false follows the opening hours).",
                    flush=True,
                )
            if logins.exists():
                print("Demo staff logins (demo only):\n" + logins.read_text(), flush=True)
            print("Stop with Ctrl+C.", flush=True)

        try:
            run_async(_serve(settings, args.host, args.port, ready))
        finally:
            worker.terminate()
            worker.wait(timeout=15)


def development_url(settings: Settings, args: argparse.Namespace) -> str:
    """The address `clb run` serves on, unless CLB_PUBLIC_URL says otherwise: the page's
    origin must match it, or staff logins and pupils' sockets are refused (403)."""
    if "CLB_PUBLIC_URL" in os.environ:
        return settings.public_url
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
    return f"http://{host}:{args.port}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clb", description="CLB platform")
    sub = parser.add_subparsers(dest="command", required=True)

    for name, help_text in (
        ("serve", "serve the web app"),
        ("run", "development: embedded services, demo data, app and worker"),
    ):
        command = sub.add_parser(name, help=help_text)
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument("--port", type=int, default=8000)
    sub.add_parser("worker", help="run the background job worker")
    sub.add_parser("migrate", help="bring the database schema up to date")
    sub.add_parser("demo", help="load the demo centres, schools and staff")

    create = sub.add_parser("create-user", help="create a staff account")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="full name")
    create.add_argument("--display-name", help="name shown to visitors (default: first name)")
    create.add_argument("--centre", required=True, help="the centre's slug")
    create.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["counsellor", "coordinator", "editor", "admin"],
    )
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    lists = sub.add_parser(
        "import-schools", help="import the education department's CLB and school lists (CSV)"
    )
    lists.add_argument("--centres", type=Path, help="the list of CLBs")
    lists.add_argument("--schools", type=Path, help="the list of schools")
    lists.add_argument("--level", help="the level of every school in a list without that column")
    lists.add_argument("--dry-run", action="store_true", help="check and count, save nothing")
    return parser


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], None]] = {
    "serve": cmd_serve,
    "worker": cmd_worker,
    "migrate": cmd_migrate,
    "demo": cmd_demo,
    "create-user": cmd_create_user,
    "import-schools": cmd_import_schools,
    "run": cmd_run,
}


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Uvicorn re-raises SIGTERM after its graceful shutdown; as an exception it unwinds
    # through our cleanup (worker, embedded servers) instead of killing the process.
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        settings = with_secret_key(load_settings())
        configure_logging(settings.log_level)
        COMMANDS[args.command](settings, args)
    except SettingsError as exc:
        print(f"clb: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass
