"""Development-only pieces, never used in production: embedded PostgreSQL and Redis, the
demo data and the development mailbox."""
