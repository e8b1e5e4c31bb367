"""The platform's one settings object (env prefix ``CLB_``, ``.env`` supported)."""

from __future__ import annotations

import secrets
from email.utils import parseaddr
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """A setting has a bad value; the message names the setting in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "production", "test"] = "development"
    # Unset URLs mean: start embedded PostgreSQL and Redis under data_dir.
    database_url: str | None = None
    # "transaction" when database_url leads to PgBouncer (or another pooler) in transaction
    # pooling mode: then no prepared statement or other session state outlives a transaction
    # (clb.db.create_engine; infra/pgbouncer/README.md). "session": a direct connection, or
    # a pooler in session mode.
    database_pooling: Literal["session", "transaction"] = "session"
    redis_url: str | None = None
    data_dir: Path = Path("var")
    # Prefix for every Redis key, channel and job queue, so several deployments
    # (or test runs) can share one Redis server without seeing each other.
    redis_namespace: str = Field(default="clb", pattern=r"^[a-z0-9_-]{1,32}$")
    # redis_url names one node of a Redis Cluster: fan-out then uses sharded pub/sub
    # (SSUBSCRIBE/SPUBLISH), and keys that one command touches together share a hash tag.
    redis_cluster: bool = False
    # The job queue's Redis (ARQ does not run on a cluster); unset: redis_url. Required
    # when redis_cluster is set.
    jobs_redis_url: str | None = None

    public_url: str = "http://127.0.0.1:8000"
    # Extra origins allowed to open WebSockets and post forms (besides public_url).
    allowed_origins: list[str] = []
    secret_key: str | None = Field(default=None, min_length=32)

    session_idle_minutes: int = Field(default=120, ge=5, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=7 * 24)
    login_failures_per_pair: int = Field(default=5, ge=1)
    login_failures_per_ip: int = Field(default=50, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    # Staff identity (docs/privacy.md). An invitation link works once, for this long; a
    # password reset link likewise, shorter.
    invite_valid_hours: int = Field(default=72, ge=1, le=14 * 24)
    reset_valid_minutes: int = Field(default=60, ge=5, le=24 * 60)
    # Single sign-on: each centre's OpenID Connect client secret, as {"centre-slug": "secret"}
    # (JSON in CLB_OIDC_CLIENT_SECRETS). A centre without one is a public client (PKCE only).
    oidc_client_secrets: dict[str, str] = {}

    # Retention (docs/privacy.md has the table; jobs in each domain enforce it nightly).
    # Appointments: names, contact details and the written need, this long after the
    # appointment; what the statistics count stays.
    retention_appointment_months: int = Field(default=6, ge=1, le=120)
    # Face-to-face requests: this long after they were closed.
    retention_request_months: int = Field(default=6, ge=1, le=120)
    # The audit log of staff actions.
    retention_audit_months: int = Field(default=24, ge=1, le=120)
    # The development mailbox (never used in production) and chat handover codes.
    retention_dev_mailbox_days: int = Field(default=7, ge=1, le=365)
    retention_handover_days: int = Field(default=30, ge=1, le=365)

    # The chat (see docs/chat-protocol.md).
    chat_time_limit_minutes: int = Field(default=45, ge=5, le=240)
    chat_notice_before_minutes: int = Field(default=5, ge=1, le=30)
    # "Het is nu heel druk": no new chats while this many *present* visitors wait. Above one
    # school's class (chat_conversations_per_address), so one address never fills it.
    chat_max_queue: int = Field(default=60, ge=1)
    chat_counsellor_capacity: int = Field(default=2, ge=1, le=10)
    chat_retention_days: int = Field(default=30, ge=1, le=365)
    # Flood control: messages per minute per visitor, and per (hashed) address, which a
    # whole school network may share.
    chat_visitor_rate_per_minute: int = Field(default=30, ge=1)
    chat_address_rate_per_minute: int = Field(default=120, ge=1)
    # All of one staff member's chats together (console and whisper).
    chat_staff_rate_per_minute: int = Field(default=120, ge=1)
    chat_intake_stop_minutes: int = Field(default=15, ge=0, le=120)
    # Presence (chat/realtime/presence.py). Each process renews its visitors' sockets every
    # quarter of the TTL: a killed process's visitors turn away after at most the TTL.
    chat_presence_ttl_seconds: int = Field(default=20, ge=2, le=300)
    # A page that closed counts as there this long: a refresh or a switch from wifi to 4G on
    # an old phone comes back within it, so nobody else's place flickers.
    chat_presence_grace_seconds: int = Field(default=10, ge=0, le=120)
    # An away visitor (every socket gone) keeps their place this long: long enough for a
    # phone that was locked or a pupil called away from the screen, short enough that the
    # statistics learn soon who gave up. After it, the chat ends as abandoned.
    chat_return_window_minutes: float = Field(default=10, gt=0, le=120)
    # A running chat whose visitor has been away this long ends by itself (the counsellor
    # sees "verbinding verbroken" all the while and may end it sooner).
    chat_active_away_minutes: float = Field(default=15, gt=0, le=240)
    # Admission: a visitor token holds a few sockets (two tabs and a reconnect overlap); an
    # address, which a whole school shares, holds a class's worth of chats. New chats per
    # token and per address per hour keep a finished token from starting again at once.
    chat_sockets_per_visitor: int = Field(default=3, ge=1)
    chat_sockets_per_address: int = Field(default=90, ge=1)
    chat_conversations_per_address: int = Field(default=30, ge=1)
    chat_starts_per_visitor_per_hour: int = Field(default=4, ge=1)
    chat_starts_per_address_per_hour: int = Field(default=90, ge=1)
    # "Volgende gesprek" keeps a chat in another language this long for a counsellor who
    # speaks it (while one is available); after it, anyone may take it.
    chat_language_wait_seconds: int = Field(default=120, ge=0, le=3600)
    # Development and tests only: ignore the opening hours.
    chat_always_open: bool = False
    # The chat duty rota (chat.rota): counsellors a centre wants on each opening slot (fewer
    # is shown as "niet bezet"), and how many weeks ahead coordinators plan.
    chat_rota_wanted_per_slot: int = Field(default=1, ge=1, le=20)
    chat_rota_weeks_ahead: int = Field(default=6, ge=1, le=26)
    # "Stel je vraag": the answer target in working days; questions asked and codes looked up
    # per hour per (hashed) address (a school network may share one).
    question_answer_working_days: int = Field(default=2, ge=1, le=20)
    question_asks_per_hour: int = Field(default=20, ge=1)
    question_lookups_per_hour: int = Field(default=30, ge=1)

    # Appointments.
    # Self-service reschedule/cancel closes this long before the start (then: call the CLB).
    booking_change_cutoff_hours: int = Field(default=2, ge=0, le=168)
    # Reminders, in hours before the start (by e-mail, and by SMS when a phone was given).
    booking_reminder_hours: list[int] = Field(default=[24, 2], max_length=5)
    # Bookings per hour per (hashed) address: a whole school network may share one.
    booking_rate_per_hour: int = Field(default=60, ge=1)
    # Face-to-face requests: the first contact is due this many working days after filing.
    meeting_first_contact_working_days: int = Field(default=2, ge=1, le=20)
    # Video appointments: each gets its own room on this Jitsi Meet compatible server
    # (https://meet.jit.si or a CLB's own). Unset: no video room; the counsellor calls or
    # mails the person instead (scheduling.appointments.video_room).
    video_base_url: str | None = None
    # A server with token authentication: the room link carries a JWT (HS256) for that room.
    video_jwt_app_id: str | None = None
    video_jwt_secret: str | None = None
    # The room opens this long before the start (and closes at the end).
    video_opens_minutes_before: int = Field(default=10, ge=0, le=120)

    quick_exit_url: str = "https://www.google.be/search?q=weerbericht"
    default_language: Literal["nl", "en"] = "nl"
    metrics_enabled: bool = True
    # /metrics answers only clients from these networks (the client address as the proxy
    # passed it on): a scraper inside the cluster, never the internet.
    metrics_networks: list[str] = [
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
    ]
    migrate_on_start: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # On SIGTERM `clb serve` answers 503 on /readyz, takes no new connections, asks every chat
    # socket to reconnect elsewhere (1012) spread over shutdown_spread_seconds, so thousands
    # of pages do not land on the other instances at the same instant, and exits within the
    # grace: keep it below Kubernetes' terminationGracePeriodSeconds minus any preStop sleep.
    shutdown_grace_seconds: float = Field(default=25, gt=0, le=600)
    shutdown_spread_seconds: float = Field(default=2, ge=0, le=60)

    # Outgoing mail (clb.mail). Unset: sending fails with a clear error, the app still runs;
    # `clb run` then starts the development mailbox and points this at it.
    smtp_url: str | None = None
    mail_from: str = "CLB-platform <no-reply@clb-platform.invalid>"
    # Where the development mailbox keeps received mail and recorded SMS (shown at
    # /dev/postvak outside production); `clb run` sets it to data_dir/mailbox.
    dev_mailbox_dir: Path | None = None
    # An SMS provider as "module:Class" (see docs/sms.md); unset: SMS are only recorded.
    sms_transport: str | None = None

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = urlsplit(value).scheme
        if scheme not in {"postgresql", "postgres", "postgresql+asyncpg"}:
            raise ValueError("must be a postgresql:// URL")
        return "postgresql+asyncpg://" + value.split("://", 1)[1]

    @field_validator("redis_url", "jobs_redis_url")
    @classmethod
    def _redis_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @model_validator(mode="after")
    def _jobs_beside_a_cluster(self) -> Settings:
        if self.redis_cluster and self.jobs_redis_url is None:
            raise ValueError(
                "CLB_REDIS_CLUSTER needs CLB_JOBS_REDIS_URL: the job queue (ARQ) runs on one "
                "plain Redis, not on a cluster"
            )
        return self

    @field_validator("video_base_url")
    @classmethod
    def _video_server(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query:
            raise ValueError("must be an http(s):// URL such as https://meet.jit.si")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _video_token_complete(self) -> Settings:
        if not self.video_jwt_secret:
            self.video_jwt_secret = None
        elif len(self.video_jwt_secret) < 16:
            raise ValueError("CLB_VIDEO_JWT_SECRET must be at least 16 characters")
        elif not (self.video_jwt_app_id and self.video_base_url):
            raise ValueError(
                "CLB_VIDEO_JWT_SECRET needs CLB_VIDEO_JWT_APP_ID and CLB_VIDEO_BASE_URL"
            )
        return self

    @field_validator("smtp_url")
    @classmethod
    def _smtp_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError("has a bad port number") from None
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError(
                "must be an smtp:// or smtps:// URL such as smtp://mail.example.be:587"
            )
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_address(cls, value: str) -> str:
        _name, address = parseaddr(value)
        if "@" not in address or any(c in value for c in "\r\n"):
            raise ValueError("must be an address such as CLB-platform <no-reply@clb.example.be>")
        return value

    @field_validator("sms_transport")
    @classmethod
    def _dotted_path(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        from clb.sms import load_transport_class

        load_transport_class(value)  # raises ValueError with a one-line reason
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an http(s):// URL such as https://clb.example.be")
        return value.rstrip("/")

    @cached_property
    def secure_cookies(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @cached_property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    def service_urls(self) -> tuple[str, str]:
        """The database and Redis URLs, once embedded servers (if any) have been started."""
        if self.database_url is None or self.redis_url is None:
            raise RuntimeError("database/Redis URLs are not resolved; start embedded servers first")
        return self.database_url, self.redis_url

    @property
    def embedded(self) -> bool:
        return self.database_url is None or self.redis_url is None


def with_secret_key(settings: Settings) -> Settings:
    """Production must configure CLB_SECRET_KEY; elsewhere one is made once and kept in data_dir."""
    if settings.secret_key:
        return settings
    if settings.env == "production":
        raise SettingsError("Invalid setting CLB_SECRET_KEY: required in production (>= 32 chars)")
    path = settings.data_dir / "secret_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return settings.model_copy(update={"secret_key": path.read_text().strip()})


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning validation errors into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "CLB_" + "_".join(str(part) for part in first["loc"]).upper()
        raise SettingsError(f"Invalid setting {name}: {first['msg']}") from None
