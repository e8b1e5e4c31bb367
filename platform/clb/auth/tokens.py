"""Bearer secrets: 256 bits from ``secrets``, stored only as a SHA-256 hash.

A fast hash is right here (unlike passwords): the token is random and long, so there is
nothing to brute-force, and a lookup by hash must be cheap on every request and frame.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
