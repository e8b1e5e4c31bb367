"""school search that forgives typos; the own phone and e-mail of who files a face-to-face
request "via mij"

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-15 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in scheduling.booking_pages.school_search.normalised (copied: a migration stays frozen):
# lower case, accents off, every run of other characters one space, a space at both ends
# (so " word" finds a word's start). Only built-in immutable functions, so it can be indexed.
ACCENTED = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿ"
PLAIN = "aaaaaaceeeeiiiinooooouuuuyy"
SEARCH_TEXT = f"""
CREATE FUNCTION school_search_text(name text, municipality text, postcode text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ' ' || trim(regexp_replace(
    translate(lower(name || ' ' || municipality || ' ' || postcode), '{ACCENTED}', '{PLAIN}'),
    '[^a-z0-9]+', ' ', 'g')) || ' '
$$
"""


def upgrade() -> None:
    # Created by 0004 for the toolbox; kept here so this migration stands on its own.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(SEARCH_TEXT)
    op.execute(
        "CREATE INDEX ix_schools_search ON schools USING gin "
        "(school_search_text(name, municipality, postcode) gin_trgm_ops)"
    )
    op.add_column("meeting_requests", sa.Column("requester_phone", sa.String(20), nullable=True))
    op.add_column("meeting_requests", sa.Column("requester_email", sa.String(254), nullable=True))


def downgrade() -> None:
    op.drop_column("meeting_requests", "requester_email")
    op.drop_column("meeting_requests", "requester_phone")
    op.execute("DROP INDEX ix_schools_search")
    op.execute("DROP FUNCTION school_search_text(text, text, text)")
