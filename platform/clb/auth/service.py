"""Logging staff in and out, resolving sessions, and issuing anonymous visitor tokens."""

from __future__ import annotations

import hashlib
import logging
import math
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import record_audit
from clb.auth import repository
from clb.auth.models import Role, StaffAccount, StaffSession, Visitor
from clb.auth.passwords import verify_password_async
from clb.auth.tokens import hash_token, new_token
from clb.bus import Bus
from clb.config import Settings
from clb.db import after_commit, utcnow
from clb.errors import InvalidCredentials
from clb.i18n import gettext
from clb.ratelimit import Rate, RateLimiter
from clb.redis import Keys

log = logging.getLogger(__name__)

SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
SECOND_FACTOR_ROLES = frozenset({Role.counsellor, Role.coordinator, Role.admin})
THROTTLED_LOGIN = "Te veel mislukte pogingen. Probeer het over {minutes} min. opnieuw."


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class LoginThrottle:
    """Failed logins are counted per (account, address) pair and per address, never per
    account alone: an attacker elsewhere cannot lock a counsellor out of their account."""

    limiter: RateLimiter
    settings: Settings

    def _rates(self) -> tuple[Rate, Rate]:
        window = self.settings.login_window_minutes * 60
        return (
            Rate(self.settings.login_failures_per_pair, window),
            Rate(self.settings.login_failures_per_ip, window),
        )

    @staticmethod
    def _names(email: str, ip_hash: str) -> tuple[str, str]:
        account = hashlib.sha256(email.encode()).hexdigest()[:24]
        return f"login:pair:{account}:{ip_hash}", f"login:ip:{ip_hash}"

    async def check(self, email: str, ip_hash: str) -> None:
        for name, rate in zip(self._names(email, ip_hash), self._rates(), strict=True):
            decision = await self.limiter.peek(name, rate)
            # Rounded up, from the same whole seconds as the Retry-After header: the
            # sentence never promises a shorter wait than the lock really lasts.
            minutes = max(1, math.ceil(math.ceil(decision.retry_after) / 60))
            # Translate the pattern, then fill in the number: the sentence stays translatable.
            decision.raise_if_denied(gettext(THROTTLED_LOGIN).format(minutes=minutes))

    async def failed(self, email: str, ip_hash: str) -> None:
        for name, rate in zip(self._names(email, ip_hash), self._rates(), strict=True):
            await self.limiter.hit(name, rate)

    async def succeeded(self, email: str, ip_hash: str) -> None:
        await self.limiter.reset(self._names(email, ip_hash)[0])


async def authenticate(
    session: AsyncSession, throttle: LoginThrottle, email: str, password: str, ip_hash: str
) -> StaffAccount:
    email = normalise_email(email)
    await throttle.check(email, ip_hash)
    account = await repository.account_by_email(session, email)
    usable = account is not None and account.is_active
    stored_hash = account.password_hash if account is not None and usable else None
    if not await verify_password_async(stored_hash, password) or account is None:
        await throttle.failed(email, ip_hash)
        log.info("staff login failed", extra={"ip_hash": ip_hash})
        raise InvalidCredentials()
    await throttle.succeeded(email, ip_hash)
    return account


async def second_factor_required(session: AsyncSession, account: StaffAccount) -> bool:
    """The centre requires a second factor of every role that can read transcripts or
    personal data (an editor of the toolbox alone reads neither)."""
    if not SECOND_FACTOR_ROLES.intersection(account.roles):
        return False
    return await repository.centre_requires_second_factor(session, account.centre_id)


async def start_session(
    session: AsyncSession,
    account: StaffAccount,
    settings: Settings,
    *,
    second_factor: str | None = None,
    enrolment_only: bool = False,
    device: str | None = None,
) -> str:
    token = new_token()
    account.last_login_at = utcnow()
    record_audit(session, "login", actor_id=account.id)
    session.add(
        StaffSession(
            token_hash=hash_token(token),
            account_id=account.id,
            expires_at=utcnow() + timedelta(hours=settings.session_max_hours),
            second_factor=second_factor,
            enrolment_only=enrolment_only,
            device=device,
        )
    )
    return token


async def resolve_session(
    session: AsyncSession, token: str, settings: Settings
) -> StaffSession | None:
    """The live session for a cookie token, or None once it ended, idled out or expired."""
    now = utcnow()
    found = await repository.live_session_by_hash(
        session,
        hash_token(token),
        now=now,
        idle_since=now - timedelta(minutes=settings.session_idle_minutes),
    )
    if found is None or not found.account.is_active:
        return None
    if now - found.last_seen_at > SESSION_TOUCH_INTERVAL:
        found.last_seen_at = now
    return found


def staff_channel(keys: Keys, account_id: uuid.UUID) -> str:
    """Events for one staff member's open consoles (e.g. "you logged out: close sockets")."""
    return keys.channel("staff", str(account_id))


async def end_session(session: AsyncSession, bus: Bus, keys: Keys, token: str) -> None:
    ended = await repository.end_session_by_hash(session, hash_token(token), utcnow())
    if ended is None:
        return
    session_id, account_id = ended
    record_audit(session, "logout", actor_id=account_id)
    event = {"type": "session_ended", "session_ids": [str(session_id)]}
    after_commit(session, lambda: bus.publish(staff_channel(keys, account_id), event))


async def new_visitor(session: AsyncSession) -> tuple[Visitor, str]:
    token = new_token()
    visitor = Visitor(token_hash=hash_token(token))
    session.add(visitor)
    await session.flush()
    return visitor, token


async def resolve_visitor(session: AsyncSession, token: str) -> Visitor | None:
    visitor = await repository.visitor_by_hash(session, hash_token(token))
    if visitor is not None:
        now = utcnow()
        if now - visitor.last_seen_at > SESSION_TOUCH_INTERVAL:
            visitor.last_seen_at = now
    return visitor


async def purge_old_sessions(session: AsyncSession, *, keep_days: int = 30) -> int:
    """Ended or expired sessions, and used or expired invitation and reset links, after
    ``keep_days`` (long enough to answer "who was logged in when" from the audit log)."""
    cutoff = utcnow() - timedelta(days=keep_days)
    links = await repository.purge_links_before(session, cutoff)
    return await repository.purge_sessions_before(session, cutoff) + links
