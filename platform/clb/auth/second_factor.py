"""The second step of a staff login: an authenticator app's code (TOTP), a passkey, or one
of the recovery codes; and the short-lived state between the password and that step."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

import orjson
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import record_audit
from clb.auth import totp
from clb.auth.models import Passkey, RecoveryCode, StaffAccount
from clb.auth.tokens import hash_token, new_token
from clb.db import utcnow
from clb.redis import Keys, RedisClient

RECOVERY_CODES = 10
# Without 0/O and 1/I/L: a code copied from paper is read right.
RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# Time to open the authenticator app after the password was accepted.
PENDING_SECONDS = 300


def _recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _normalised_recovery(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


async def has_second_factor(session: AsyncSession, account: StaffAccount) -> bool:
    if account.totp_enabled_at is not None:
        return True
    count = await session.scalar(
        select(func.count()).select_from(Passkey).where(Passkey.account_id == account.id)
    )
    return bool(count)


def begin_totp(account: StaffAccount) -> str:
    """A new secret to show as a QR code; it counts only once a first code confirms it."""
    if account.totp_enabled_at is None or account.totp_secret is None:
        account.totp_secret = totp.new_secret()
    return account.totp_secret


async def check_totp(session: AsyncSession, account: StaffAccount, code: str) -> bool:
    """Whether ``code`` is the account's current code, used for the first time. The step
    is claimed in one conditional UPDATE, so two requests racing with one code cannot both
    win."""
    if account.totp_secret is None:
        return False
    step = totp.matching_step(account.totp_secret, code, last_step=account.totp_last_step)
    if step is None:
        return False
    claimed = await session.scalar(
        update(StaffAccount)
        .where(
            StaffAccount.id == account.id,
            (StaffAccount.totp_last_step.is_(None)) | (StaffAccount.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .returning(StaffAccount.id)
        .execution_options(synchronize_session="fetch")
    )
    return claimed is not None


async def confirm_totp(session: AsyncSession, account: StaffAccount, code: str) -> list[str] | None:
    """Turn the app on with its first code; returns fresh recovery codes (shown once)."""
    if account.totp_enabled_at is not None or not await check_totp(session, account, code):
        return None
    account.totp_enabled_at = utcnow()
    record_audit(session, "account.second_factor_added", actor_id=account.id, object_type="totp")
    return await new_recovery_codes(session, account)


async def remove_totp(session: AsyncSession, account: StaffAccount) -> None:
    account.totp_secret = None
    account.totp_enabled_at = None
    account.totp_last_step = None
    record_audit(session, "account.second_factor_removed", actor_id=account.id, object_type="totp")


async def new_recovery_codes(session: AsyncSession, account: StaffAccount) -> list[str]:
    """Ten new codes; the old ones stop working. Only their hashes are stored."""
    await session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    session.add_all(
        RecoveryCode(account_id=account.id, code_hash=hash_token(_normalised_recovery(code)))
        for code in codes
    )
    return codes


async def use_recovery_code(session: AsyncSession, account: StaffAccount, code: str) -> bool:
    used = await session.scalar(
        update(RecoveryCode)
        .where(
            RecoveryCode.account_id == account.id,
            RecoveryCode.code_hash == hash_token(_normalised_recovery(code)),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .returning(RecoveryCode.id)
    )
    if used is not None:
        record_audit(session, "account.recovery_code_used", actor_id=account.id)
    return used is not None


async def recovery_codes_left(session: AsyncSession, account_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


@dataclass(frozen=True)
class PendingLogin:
    """A password accepted, the second step not yet made."""

    account_id: uuid.UUID
    next_url: str


def _pending_key(keys: Keys, token: str) -> str:
    return keys.key("login-step", hash_token(token))


async def start_pending(redis: RedisClient, keys: Keys, pending: PendingLogin) -> str:
    token = new_token()
    value = orjson.dumps({"account_id": str(pending.account_id), "next": pending.next_url})
    await redis.set(_pending_key(keys, token), value, ex=PENDING_SECONDS)
    return token


async def read_pending(redis: RedisClient, keys: Keys, token: str) -> PendingLogin | None:
    raw = await redis.get(_pending_key(keys, token)) if token else None
    if raw is None:
        return None
    data = orjson.loads(raw)
    return PendingLogin(uuid.UUID(data["account_id"]), data["next"])


async def end_pending(redis: RedisClient, keys: Keys, token: str) -> None:
    await redis.delete(_pending_key(keys, token))
