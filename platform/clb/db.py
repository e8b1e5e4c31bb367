"""Async SQLAlchemy: the declarative base, the engine, and the session boundary.

Only boundaries (a request, a WebSocket frame handler, a job) commit. Side effects that
must not happen for a rolled-back change (publishing events, enqueueing jobs) are
registered with :func:`after_commit` and run by :func:`commit` once the data is durable.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import DateTime, MetaData, event, inspect
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from clb.errors import UnstorableText

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


def utcnow() -> datetime:
    return datetime.now(UTC)


def months_before(moment: datetime, months: int) -> datetime:
    """The same clock time ``months`` calendar months earlier (a day past the shorter
    month's end becomes its last day): where a retention period in months begins."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=moment.tzinfo)
    last_day = (following - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def columns_of(row: object) -> dict[str, Any]:
    """Every column of a mapped row by its attribute name (a privacy export shows them all)."""
    return {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# How the database URL reaches PostgreSQL: straight, or through a pooler that lends a server
# connection for one transaction at a time (PgBouncer's pool_mode = transaction; see
# infra/pgbouncer/README.md). Settings.database_pooling holds the deployment's choice.
Pooling = Literal["session", "transaction"]


def create_engine(
    url: str, *, pooling: Pooling = "session", statement_seconds: float | None = 30
) -> AsyncEngine:
    # A steady pool: overflow connections opened and closed under load cost PostgreSQL more
    # than the work itself, and a pre-ping doubles every checkout's round trips. A connection
    # broken by a server restart fails one unit of work, which the client retries.
    # hide_parameters: an error's text never carries what people typed into the log.
    # Bounded waits: a connection within pool_timeout, a connect within 5 s, a statement
    # within ``statement_seconds`` (None for migrations). Beyond that the caller answers
    # "try again shortly" (clb.health.outage), never hangs.
    engine = create_async_engine(
        url,
        pool_size=20,
        max_overflow=5,
        pool_pre_ping=False,
        pool_timeout=10,
        hide_parameters=True,
        connect_args=_connect_args(pooling, statement_seconds),
    )
    event.listen(engine.sync_engine, "handle_error", _refuse_unstorable_text)
    return engine


def _connect_args(pooling: Pooling, statement_seconds: float | None) -> dict[str, Any]:
    args: dict[str, Any] = {"timeout": 5, "command_timeout": statement_seconds}
    if pooling == "transaction":
        # A prepared statement lives on one server connection, which a transaction pooler
        # lends to another client after every transaction: no statement may outlive its
        # transaction. Both caches off (SQLAlchemy's and asyncpg's) and every statement the
        # unnamed one, which PostgreSQL replaces with the next and which is never closed
        # explicitly. Unique names instead (SQLAlchemy's documented workaround) would leave
        # every statement behind on whichever server connection ran it, as the Close that
        # asyncpg sends later travels in another transaction, likely to another server.
        # The price is a Parse round trip per statement, so only behind such a pooler.
        args |= {
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _unnamed,
        }
    return args


def _unnamed() -> str:
    return ""


# PostgreSQL refuses NUL in text (22021, character_not_in_repertoire) and "\u0000" in JSON
# (22P05, untranslatable_character). Whichever form or frame it came from, the person gets a
# typed 422 (an error frame on a socket) and the unit of work rolls back.
_UNSTORABLE_TEXT = frozenset({"22021", "22P05"})


def _refuse_unstorable_text(context: ExceptionContext) -> None:
    if getattr(context.original_exception, "sqlstate", None) in _UNSTORABLE_TEXT:
        raise UnstorableText() from None


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


Effect = Callable[[], Awaitable[object]]
_EFFECTS_KEY = "clb_after_commit"


def after_commit(session: AsyncSession, effect: Effect) -> None:
    """Run ``effect`` after the session's next successful commit; drop it on rollback."""
    session.info.setdefault(_EFFECTS_KEY, []).append(effect)


async def commit(session: AsyncSession) -> None:
    """Commit, then run the registered after-commit effects (best effort, logged)."""
    await session.commit()
    effects: list[Effect] = session.info.pop(_EFFECTS_KEY, [])
    for effect in effects:
        try:
            await effect()
        except Exception:
            # The change is durable; a lost effect is recovered by the outbox sweep or the
            # client's resume, so it must not turn a committed request into an error.
            log.exception("after-commit effect failed")


async def rollback(session: AsyncSession) -> None:
    session.info.pop(_EFFECTS_KEY, None)
    await session.rollback()


@asynccontextmanager
async def transaction(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A unit of work outside a request (jobs, CLI): commit on success, roll back on error."""
    async with maker() as session:
        try:
            yield session
        except BaseException:
            await rollback(session)
            raise
        await commit(session)
