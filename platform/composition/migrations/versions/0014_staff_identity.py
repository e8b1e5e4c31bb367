"""Staff identity: invitation and reset links, a second factor (TOTP with recovery codes,
passkeys), single sign-on per centre, and what a session knows of how it was started

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # An invited account has no password until the invitation is accepted; an account that
    # only ever signs in through its centre's identity provider may never have one.
    op.alter_column("staff_accounts", "password_hash", nullable=True)
    op.add_column("staff_accounts", sa.Column("deactivated_at", TZ))
    op.add_column("staff_accounts", sa.Column("totp_secret", sa.String(64)))
    op.add_column("staff_accounts", sa.Column("totp_enabled_at", TZ))
    op.add_column("staff_accounts", sa.Column("totp_last_step", sa.BigInteger))
    op.add_column("staff_accounts", sa.Column("sso_subject", sa.String(400), unique=True))

    op.add_column(
        "staff_sessions",
        sa.Column("second_factor", sa.String(20)),
    )
    op.add_column(
        "staff_sessions",
        sa.Column("enrolment_only", sa.Boolean, nullable=False, server_default="false"),
    )
    op.add_column("staff_sessions", sa.Column("device", sa.String(80)))

    op.add_column(
        "centres",
        sa.Column("second_factor_required", sa.Boolean, nullable=False, server_default="true"),
    )
    op.add_column("centres", sa.Column("oidc_issuer", sa.String(300)))
    op.add_column("centres", sa.Column("oidc_client_id", sa.String(200)))

    op.create_table(
        "staff_account_links",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "account_id",
            sa.Uuid,
            sa.ForeignKey("staff_accounts.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("purpose", sa.String(10), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ),
        sa.Column("created_by", sa.Uuid, sa.ForeignKey("staff_accounts.id", ondelete="SET NULL")),
        sa.CheckConstraint("purpose IN ('invite', 'reset')", name="known_purpose"),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "account_id",
            sa.Uuid,
            sa.ForeignKey("staff_accounts.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", TZ),
    )
    op.create_table(
        "staff_passkeys",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "account_id",
            sa.Uuid,
            sa.ForeignKey("staff_accounts.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("credential_id", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("sign_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column(
            "transports", postgresql.ARRAY(sa.String(20)), nullable=False, server_default="{}"
        ),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_used_at", TZ),
    )


def downgrade() -> None:
    op.drop_table("staff_passkeys")
    op.drop_table("staff_recovery_codes")
    op.drop_table("staff_account_links")
    for column in ("oidc_client_id", "oidc_issuer", "second_factor_required"):
        op.drop_column("centres", column)
    for column in ("device", "enrolment_only", "second_factor"):
        op.drop_column("staff_sessions", column)
    identity = ("sso_subject", "totp_last_step", "totp_enabled_at", "totp_secret", "deactivated_at")
    for column in identity:
        op.drop_column("staff_accounts", column)
    op.alter_column("staff_accounts", "password_hash", nullable=False)
