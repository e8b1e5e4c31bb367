"""Each new status of a face-to-face request is told to who asked, through the contact they
gave: by mail when there is an e-mail address, else by SMS; "via mij" to who filed it; in
the language it was filed in, with the status link. No new status, no message; no contact,
nothing and no error (real worker, the development mailbox)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb import i18n
from clb.auth.models import StaffAccount
from clb.config import Settings
from clb.db import transaction, utcnow
from clb.jobs import OutboxJob
from clb.org.models import Centre
from clb.services import Services
from development.mailbox import DevMailbox
from scheduling.meetings import service as meetings
from scheduling.meetings.labels import STATUS_LABELS
from scheduling.meetings.repository import anonymise_requests
from tests.clb.notifications.support import (
    Mail,
    mailbox_settings,
    mails,
    postvak,
    run_worker,
    text_messages,
)
from tests.conftest import make_staff
from tests.scheduling.meeting_pages_support import file_directly, reload_request
from tests.scheduling.support import bookable_counsellor

__all__ = ["postvak"]

COORDINATOR = "cora@clb.example"


@pytest.fixture
def settings(settings: Settings, postvak: DevMailbox) -> Settings:
    return mailbox_settings(settings, postvak)


async def filed_in(services: Services, language: str, **fields: Any) -> uuid.UUID:
    """A request filed on a page in ``language``."""
    i18n.use_translator(i18n.translators()[language])
    try:
        request_id, _token = await file_directly(
            services, fields.pop("school_id"), utcnow(), **fields
        )
    finally:
        i18n.use_translator(i18n.translators()["nl"])
    return request_id


async def assign(services: Services, request_id: uuid.UUID, to: uuid.UUID) -> None:
    async with transaction(services.sessionmaker) as session:
        actor = await session.scalar(select(StaffAccount).where(StaffAccount.email == COORDINATOR))
        assert actor is not None
        await meetings.assign(session, request_id, to, actor, now=utcnow(), services=services)


async def close(services: Services, request_id: uuid.UUID) -> None:
    async with transaction(services.sessionmaker) as session:
        actor = await session.scalar(select(StaffAccount).where(StaffAccount.email == COORDINATOR))
        assert actor is not None
        await meetings.close(
            session, request_id, actor, "Opgelost.", now=utcnow(), services=services
        )


def people(folder: Path) -> list[Mail]:
    """The mails to people (not the counsellors' notifications, tests/clb/notifications)."""
    return [mail for mail in mails(folder) if not mail.to.endswith("@clb.example")]


async def status_jobs(db: AsyncSession) -> list[OutboxJob]:
    await db.commit()
    found = await db.scalars(
        select(OutboxJob)
        .where(OutboxJob.kind == meetings.STATUS_MESSAGE_JOB)
        .order_by(OutboxJob.id)
        .execution_options(populate_existing=True)
    )
    return list(found.all())


async def arranged(db: AsyncSession) -> tuple[StaffAccount, StaffAccount, uuid.UUID]:
    """Two counsellors of one centre (and its coordinator), and its school."""
    an, school = await bookable_counsellor(db, email="an@clb.example")
    centre = await db.get_one(Centre, an.centre_id)
    ben, _ = await bookable_counsellor(db, centre=centre, email="ben@clb.example")
    await make_staff(db, email=COORDINATOR, roles=("coordinator",), centre=centre)
    return an, ben, school.id


async def test_the_person_gets_each_new_status_by_mail_in_the_language_they_filed_in(
    services: Services, db: AsyncSession, postvak: DevMailbox
) -> None:
    an, ben, school_id = await arranged(db)
    request_id = await filed_in(
        services, "fr", school_id=school_id, for_whom="self_parent", phone=None,
        email="mila@example.be", requester_relation=None, requester_name=None,
        consent_of_person=False,
    )  # fmt: skip
    assert (await reload_request(db, request_id)).language == "fr"
    await assign(services, request_id, an.id)
    await assign(services, request_id, ben.id)  # handed over: still "assigned", no message
    await close(services, request_id)
    assert [job.payload["status"] for job in await status_jobs(db)] == ["assigned", "closed"]

    await run_worker(services)
    sent = [m for m in mails(postvak.folder) if m.to == "mila@example.be"]
    assert len(sent) == 2
    french = i18n.translators()["fr"]
    reference = (await reload_request(db, request_id)).reference
    for status in ("assigned", "closed"):  # the worker may send them in either order
        label = french.gettext(STATUS_LABELS[status])
        assert label != STATUS_LABELS[status]
        [mail] = [m for m in sent if label in m.text]
        assert reference in mail.subject and reference in mail.text
        assert french.gettext("Hier zie je hoe ver je aanvraag staat:") in mail.text
        assert "http://127.0.0.1:8000/liever-iemand-zien/status/" in mail.text
        assert "schoolverzuim" not in mail.text  # never the need they wrote
    assert text_messages(postvak.folder) == []


async def test_via_mij_goes_to_who_filed_by_sms_when_they_gave_a_phone(
    services: Services, db: AsyncSession, postvak: DevMailbox
) -> None:
    an, _ben, school_id = await arranged(db)
    request_id = await filed_in(
        services, "nl", school_id=school_id, phone=None, via_bridge=True,
        requester_phone="0470 11 22 33",
    )  # fmt: skip
    await assign(services, request_id, an.id)
    await run_worker(services)
    [sms] = text_messages(postvak.folder)
    assert sms["to"] == "0470112233"
    reference = (await reload_request(db, request_id)).reference
    assert sms["text"].startswith(f"CLB: nieuws over je aanvraag {reference}: ")
    assert STATUS_LABELS["assigned"] in sms["text"]
    assert "/liever-iemand-zien/status/" in sms["text"]
    assert people(postvak.folder) == []


async def test_via_mij_with_an_e_mail_address_is_mailed_to_who_filed(
    services: Services, db: AsyncSession, postvak: DevMailbox
) -> None:
    an, _ben, school_id = await arranged(db)
    request_id = await filed_in(
        services, "nl", school_id=school_id, via_bridge=True,
        requester_phone="0470 11 22 33", requester_email="fatima@example.be",
    )  # fmt: skip
    await assign(services, request_id, an.id)
    await run_worker(services)
    [mail] = people(postvak.folder)
    assert mail.to == "fatima@example.be" and mail.text.startswith("Dag Fatima El Amrani,")
    assert "Yasmina" not in mail.text
    assert text_messages(postvak.folder) == []  # the person's own phone is not used


async def test_no_contact_or_an_erased_request_gets_nothing_and_no_error(
    services: Services, db: AsyncSession, postvak: DevMailbox
) -> None:
    an, _ben, school_id = await arranged(db)
    via_school = await filed_in(services, "nl", school_id=school_id, phone=None, via_school=True)
    erased = await filed_in(services, "nl", school_id=school_id, email="x@example.be")
    await assign(services, via_school, an.id)
    await assign(services, erased, an.id)
    await anonymise_requests(db, [erased])
    await db.commit()
    await run_worker(services)
    assert people(postvak.folder) == [] and text_messages(postvak.folder) == []
    jobs = await status_jobs(db)
    assert len(jobs) == 2
    assert all(job.done_at is not None and job.attempts == 1 for job in jobs)
