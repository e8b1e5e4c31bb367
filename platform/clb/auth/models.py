"""Staff accounts, their server-side sessions, and anonymous visitors."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clb.db import Base, Timestamped, utcnow
from clb.org.models import Centre


class Role(enum.StrEnum):
    counsellor = "counsellor"
    coordinator = "coordinator"
    editor = "editor"
    admin = "admin"


# Dutch source names of the roles, translated where shown.
ROLE_LABELS = {
    "counsellor": "CLB-medewerker",
    "coordinator": "Coördinator",
    "editor": "Redacteur",
    "admin": "Beheerder",
}


class StaffAccount(Timestamped, Base):
    __tablename__ = "staff_accounts"
    __table_args__ = (
        CheckConstraint(
            "roles <@ ARRAY['counsellor','coordinator','editor','admin']::varchar[]",
            name="known_roles",
        ),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # What visitors see in a chat: a first name or an alias, never the full name.
    display_name: Mapped[str] = mapped_column(String(60))
    centre_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centres.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    # None until an invitation is accepted, or for an account that only uses single sign-on.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    deactivated_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # TOTP (RFC 6238): the shared secret in base32, set up once confirmed with a first code;
    # the last time step accepted, so one code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # "<issuer> <sub>" of the identity-provider account this account was matched to.
    sso_subject: Mapped[str | None] = mapped_column(String(400), unique=True)

    centre: Mapped[Centre] = relationship(lazy="raise")

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles or Role.admin.value in self.roles


class StaffSession(Base):
    """A login. Only the token's hash is stored; logging out ends it for good."""

    __tablename__ = "staff_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # How the second step was made: "totp", "passkey", "recovery", "sso", or None.
    second_factor: Mapped[str | None] = mapped_column(String(20))
    # A session that may only set up a second factor (the centre requires one).
    enrolment_only: Mapped[bool] = mapped_column(default=False, server_default="false")
    # A coarse browser and system name ("Chrome op Windows") so a person knows their sessions.
    device: Mapped[str | None] = mapped_column(String(80))

    account: Mapped[StaffAccount] = relationship(lazy="raise")


class AccountLink(Base):
    """A single-use mail link to accept an invitation or reset a password."""

    __tablename__ = "staff_account_links"
    __table_args__ = (CheckConstraint("purpose IN ('invite', 'reset')", name="known_purpose"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )


class RecoveryCode(Base):
    """One of ten single-use codes for when the authenticator is lost (hash only)."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class Passkey(Base):
    """A WebAuthn credential: the public key and signature counter, never a secret."""

    __tablename__ = "staff_passkeys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    transports: Mapped[list[str]] = mapped_column(
        ARRAY(String(20)), default=list, server_default="{}"
    )
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class Visitor(Base):
    """An anonymous pupil or parent, known only by a random token (stored hashed)."""

    __tablename__ = "visitors"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
