"""Password hashing with argon2id (RFC 9106 low-memory profile, above OWASP's minimum)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.concurrency import run_in_threadpool

# m = 64 MiB, t = 3, p = 4: well above the m=19 MiB, t=2, p=1 floor (R15).
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4, type=Type.ID)
# Verified against when the e-mail is unknown, so timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("not a real password")

MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    # Hashing takes tens of milliseconds of CPU; keep it off the event loop.
    return await run_in_threadpool(verify_password, password_hash, password)


async def hash_password_async(password: str) -> str:
    return await run_in_threadpool(hash_password, password)
