"""Shared by the notification tests: a development mailbox the worker delivers into, the
real ARQ worker run once over what is queued, and reading what was written."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.config import Settings
from clb.jobs import OutboxJob
from clb.notifications.models import StaffNotification
from clb.notifications.service import MAIL_JOB
from clb.services import Services
from composition.worker import create_worker
from development.mailbox import DevMailbox


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


@pytest.fixture
def postvak(tmp_path: Path) -> Iterator[DevMailbox]:
    """The development mailbox (its SMTP server and folder), as ``clb run`` starts it."""
    with DevMailbox(tmp_path / "postvak") as mailbox:
        yield mailbox


def mailbox_settings(settings: Settings, mailbox: DevMailbox) -> Settings:
    """Mail to the development mailbox; SMS recorded into the same folder."""
    return settings.model_copy(update={"smtp_url": mailbox.url, "dev_mailbox_dir": mailbox.folder})


async def run_worker(services: Services) -> None:
    """The real ARQ worker, once over every job due now (later ones, such as a booking's
    reminders, are set aside meanwhile: a burst worker waits for every queued job)."""
    redis, queue = services.redis, services.jobs.queue_name
    entries: list[tuple[bytes, float]] = await redis.zrange(queue, 0, -1, withscores=True)
    cutoff = time.time() * 1000 + 1000
    later = {member: score for member, score in entries if score > cutoff}
    if later:
        await redis.zrem(queue, *later)
    try:
        worker = create_worker(services, burst=True, with_cron=False)
        await asyncio.wait_for(worker.async_run(), 60)
    finally:
        if later:
            await redis.zadd(queue, later)


def mails(folder: Path) -> list[Mail]:
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        assert isinstance(body, EmailMessage)
        found.append(Mail(str(message["To"]), str(message["Subject"]), str(body.get_content())))
    return found


def text_messages(folder: Path) -> list[dict[str, str]]:
    return [orjson.loads(path.read_bytes()) for path in sorted(folder.glob("*.sms"))]


async def rows_of(db: AsyncSession, account_id: uuid.UUID) -> list[StaffNotification]:
    await db.commit()
    found = await db.scalars(
        select(StaffNotification)
        .where(StaffNotification.account_id == account_id)
        .order_by(StaffNotification.id)
    )
    return list(found.all())


async def mail_jobs(db: AsyncSession) -> list[OutboxJob]:
    await db.commit()
    found = await db.scalars(
        select(OutboxJob).where(OutboxJob.kind == MAIL_JOB).order_by(OutboxJob.id)
    )
    return list(found.all())
