"""Link tokens for appointments (manage link) and agendas (calendar feed).

A token is an HMAC of the record's id and a generation under the secret key: 256 bits that
can be put in every mail again without ever being stored. The database keeps only its
SHA-256 hash, for the lookup. Bumping the generation revokes the old link; changing the
secret key revokes all of them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from clb.auth.tokens import hash_token
from clb.config import Settings

__all__ = ["derive_token", "hash_token", "link_token"]


def derive_token(secret_key: str, purpose: str, record_id: uuid.UUID, generation: int) -> str:
    message = f"{purpose}:{record_id}:{generation}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def link_token(settings: Settings, purpose: str, record_id: uuid.UUID, generation: int) -> str:
    """The token of a link this installation mails (under its secret key)."""
    return derive_token(settings.secret_key or "", purpose, record_id, generation)
