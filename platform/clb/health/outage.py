"""Which failures are an outage of Redis or PostgreSQL (away, frozen, restarting, out of
connections, too slow) rather than a bug: those are answered with
:class:`clb.errors.TemporarilyUnavailable` (a 503 with Retry-After, an ``error`` frame on a
socket) at the boundary that sees them, and the caller tries again."""

from __future__ import annotations

import logging
import time

from redis import exceptions as redis_errors
from sqlalchemy import exc as sa_errors

# SQLSTATE classes and codes: connection exceptions (08), insufficient resources (53, e.g.
# too many clients), operator intervention (57P01-57P03: shutdown, crash, not yet accepting)
# and a statement cancelled by its timeout (57014).
_OUTAGE_STATES = ("08", "53", "57P01", "57P02", "57P03", "57014")
_REDIS_OUTAGES = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    redis_errors.TryAgainError,
    redis_errors.ClusterDownError,
)


def is_outage(error: BaseException) -> bool:
    """True for a failure of a backing service the caller can only wait out."""
    if isinstance(error, (*_REDIS_OUTAGES, OSError, TimeoutError, sa_errors.TimeoutError)):
        return True
    if isinstance(error, sa_errors.DBAPIError):
        if error.connection_invalidated:
            return True
        state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if isinstance(state, str) and state.startswith(_OUTAGE_STATES):
            return True
        return isinstance(error, sa_errors.OperationalError | sa_errors.InterfaceError)
    # asyncpg's own errors when SQLAlchemy did not wrap them (a connect that failed).
    state = getattr(error, "sqlstate", None)
    return isinstance(state, str) and state.startswith(_OUTAGE_STATES)


_last_noted: dict[str, float] = {}
NOTE_EVERY_SECONDS = 10.0


def note_outage(log: logging.Logger, where: str, error: BaseException) -> None:
    """One warning per place and ten seconds: an outage is one story in the log, not one
    line per request or frame. The error's kind only, never its text (it may quote input)."""
    now = time.monotonic()
    if now - _last_noted.get(where, -NOTE_EVERY_SECONDS) >= NOTE_EVERY_SECONDS:
        _last_noted[where] = now
        log.warning("%s: service unavailable (%s)", where, type(error).__name__)
