"""Retention of the development mailbox: messages older than ``retention_dev_mailbox_days``
go, only where a mailbox folder is set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from clb.config import Settings
from clb.message_folder import store_entry
from composition.tasks import PERIODIC_JOBS
from development.mailbox import DEV_MAILBOX_RETENTION, purge_dev_mailbox


async def test_old_messages_leave_the_mailbox(tmp_path: Path) -> None:
    folder = tmp_path / "postvak"
    settings = Settings(data_dir=tmp_path, dev_mailbox_dir=folder)
    days = settings.retention_dev_mailbox_days
    now = datetime.now(UTC)
    old_mail = store_entry(folder, "eml", b"Subject: oud\n\n", now - timedelta(days=days, hours=1))
    old_sms = store_entry(folder, "sms", b"{}", now - timedelta(days=days + 3))
    inside = store_entry(folder, "eml", b"Subject: recent\n\n", now - timedelta(days=days - 1))
    other = folder / "notes.txt"
    other.write_text("not a message")

    ctx = {"services": SimpleNamespace(settings=settings)}
    assert await purge_dev_mailbox(ctx) == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted([inside.name, other.name])
    assert not old_mail.exists() and not old_sms.exists()


async def test_without_a_mailbox_folder_nothing_happens(tmp_path: Path) -> None:
    ctx = {"services": SimpleNamespace(settings=Settings(data_dir=tmp_path))}
    assert await purge_dev_mailbox(ctx) == 0


def test_the_worker_cleans_the_mailbox_nightly() -> None:
    assert DEV_MAILBOX_RETENTION in PERIODIC_JOBS
