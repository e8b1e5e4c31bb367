"""scheduling

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 11:28:42.378571
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The exclusion constraint against double booking combines = on a uuid with && on a
    # range in one GiST index, which needs btree_gist.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    types = op.create_table(
        "appointment_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("duration_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("buffer_before_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("buffer_after_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "buffer_before_minutes BETWEEN 0 AND 120 AND buffer_after_minutes BETWEEN 0 AND 120",
            name=op.f("ck_appointment_types_buffer_range"),
        ),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 5 AND 480", name=op.f("ck_appointment_types_duration_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_types")),
        sa.UniqueConstraint("slug", name=op.f("uq_appointment_types_slug")),
    )
    op.create_table(
        "closed_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Uuid(), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_closed_periods_day_order")),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_closed_periods_centre_id_centres")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_periods")),
    )
    op.create_index(
        op.f("ix_closed_periods_centre_id"), "closed_periods", ["centre_id"], unique=False
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("counsellor_id", sa.Uuid(), nullable=False),
        sa.Column("centre_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("first_name", sa.String(length=60), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("topic", sa.String(length=500), nullable=False),
        sa.Column("manage_token_generation", sa.Integer(), nullable=False),
        sa.Column("manage_token_hash", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("idempotency_key_hash", sa.String(length=64), nullable=True),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("counsellor_note", sa.Text(), nullable=False),
        sa.Column("cancel_reason", sa.String(length=500), nullable=False),
        sa.Column("cancelled_by", sa.String(length=10), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        postgresql.ExcludeConstraint(
            (sa.text("counsellor_id"), "="),
            (sa.text("tstzrange(blocked_from, blocked_until, '[)')"), "&&"),
            where=sa.text("status <> 'cancelled'"),
            using="gist",
            name="ex_appointments_no_overlap",
        ),
        sa.CheckConstraint(
            "mode IN ('office','school','phone','video','chat')",
            name=op.f("ck_appointments_known_mode"),
        ),
        sa.CheckConstraint(
            "status IN ('confirmed','cancelled','no_show')",
            name=op.f("ck_appointments_known_status"),
        ),
        sa.CheckConstraint(
            "blocked_from <= starts_at AND blocked_until >= ends_at",
            name=op.f("ck_appointments_blocked_covers"),
        ),
        sa.CheckConstraint(
            "email IS NOT NULL OR phone IS NOT NULL", name=op.f("ck_appointments_reachable")
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_appointments_period_order")),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_appointments_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_appointments_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["staff_accounts.id"],
            name=op.f("fk_appointments_counsellor_id_staff_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_appointments_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_appointments_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["appointment_types.id"],
            name=op.f("fk_appointments_type_id_appointment_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint(
            "idempotency_key_hash", name=op.f("uq_appointments_idempotency_key_hash")
        ),
        sa.UniqueConstraint("manage_token_hash", name=op.f("uq_appointments_manage_token_hash")),
    )
    op.create_index(op.f("ix_appointments_centre_id"), "appointments", ["centre_id"], unique=False)
    op.create_index(
        "ix_appointments_counsellor_starts",
        "appointments",
        ["counsellor_id", "starts_at"],
        unique=False,
    )
    op.create_table(
        "availability_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=True),
        sa.Column("ends_at", sa.Time(), nullable=True),
        sa.Column("modes", sa.ARRAY(sa.String(length=10)), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "modes <@ ARRAY['office','school','phone','video','chat']::varchar[]",
            name=op.f("ck_availability_overrides_known_modes"),
        ),
        sa.CheckConstraint(
            "(starts_at IS NULL AND ends_at IS NULL) OR starts_at < ends_at",
            name=op.f("ck_availability_overrides_period_order"),
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["staff_accounts.id"],
            name=op.f("fk_availability_overrides_counsellor_id_staff_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_availability_overrides_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_overrides")),
    )
    op.create_index(
        "ix_availability_overrides_counsellor_day",
        "availability_overrides",
        ["counsellor_id", "day"],
        unique=False,
    )
    op.create_table(
        "availability_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Uuid(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("ends_at", sa.Time(), nullable=False),
        sa.Column("modes", sa.ARRAY(sa.String(length=10)), nullable=False),
        sa.Column("location_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "modes <@ ARRAY['office','school','phone','video','chat']::varchar[] "
            "AND cardinality(modes) > 0",
            name=op.f("ck_availability_rules_known_modes"),
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_availability_rules_period_order")),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_availability_rules_weekday_range")
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["staff_accounts.id"],
            name=op.f("fk_availability_rules_counsellor_id_staff_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_availability_rules_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_rules")),
    )
    op.create_index(
        op.f("ix_availability_rules_counsellor_id"),
        "availability_rules",
        ["counsellor_id"],
        unique=False,
    )
    op.create_table(
        "booking_policies",
        sa.Column("counsellor_id", sa.Uuid(), nullable=False),
        sa.Column("min_notice_working_days", sa.SmallInteger(), nullable=False),
        sa.Column("horizon_days", sa.SmallInteger(), nullable=False),
        sa.Column("max_per_day", sa.SmallInteger(), nullable=False),
        sa.Column("video_url", sa.String(length=300), nullable=True),
        sa.Column("feed_token_generation", sa.Integer(), nullable=False),
        sa.Column("feed_token_hash", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "horizon_days BETWEEN 1 AND 365", name=op.f("ck_booking_policies_horizon_range")
        ),
        sa.CheckConstraint(
            "max_per_day BETWEEN 1 AND 40", name=op.f("ck_booking_policies_max_per_day_range")
        ),
        sa.CheckConstraint(
            "min_notice_working_days BETWEEN 0 AND 20",
            name=op.f("ck_booking_policies_notice_range"),
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["staff_accounts.id"],
            name=op.f("fk_booking_policies_counsellor_id_staff_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("counsellor_id", name=op.f("pk_booking_policies")),
        sa.UniqueConstraint("feed_token_hash", name=op.f("uq_booking_policies_feed_token_hash")),
    )
    op.create_table(
        "appointment_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("about_starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_appointment_notifications_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_notifications")),
        sa.UniqueConstraint(
            "job_id", "channel", name=op.f("uq_appointment_notifications_job_id_channel")
        ),
    )
    op.create_index(
        op.f("ix_appointment_notifications_appointment_id"),
        "appointment_notifications",
        ["appointment_id"],
        unique=False,
    )
    _seed(types)
    # An example the coordinators keep up to date per school year (console: Afspraken).
    op.execute(
        "INSERT INTO closed_periods (centre_id, first_day, last_day, name, created_at) "
        "VALUES (NULL, DATE '2026-12-21', DATE '2027-01-03', 'Kerstvakantie 2026-2027', now())"
    )


def _seed(types: sa.Table) -> None:
    op.bulk_insert(
        types,
        [
            {
                "slug": "kennismaking",
                "name": "Kennismaking",
                "description": "Een eerste gesprek: wie is het CLB en wat kunnen we samen doen?",
                "duration_minutes": 30,
                "buffer_before_minutes": 0,
                "buffer_after_minutes": 10,
                "is_active": True,
                "sort_order": 1,
            },
            {
                "slug": "gesprek",
                "name": "Gesprek",
                "description": "Een gesprek over een vraag of zorg: school, thuis, gezondheid …",
                "duration_minutes": 45,
                "buffer_before_minutes": 0,
                "buffer_after_minutes": 15,
                "is_active": True,
                "sort_order": 2,
            },
            {
                "slug": "studiekeuze",
                "name": "Studiekeuze",
                "description": "Samen nadenken over je volgende stap in het onderwijs.",
                "duration_minutes": 45,
                "buffer_before_minutes": 0,
                "buffer_after_minutes": 15,
                "is_active": True,
                "sort_order": 3,
            },
        ],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_appointment_notifications_appointment_id"), table_name="appointment_notifications"
    )
    op.drop_table("appointment_notifications")
    op.drop_table("booking_policies")
    op.drop_index(op.f("ix_availability_rules_counsellor_id"), table_name="availability_rules")
    op.drop_table("availability_rules")
    op.drop_index("ix_availability_overrides_counsellor_day", table_name="availability_overrides")
    op.drop_table("availability_overrides")
    op.drop_index("ix_appointments_counsellor_starts", table_name="appointments")
    op.drop_index(op.f("ix_appointments_centre_id"), table_name="appointments")
    op.drop_table("appointments")
    op.drop_index(op.f("ix_closed_periods_centre_id"), table_name="closed_periods")
    op.drop_table("closed_periods")
    op.drop_table("appointment_types")
