"""Account management in the console: invitations (single use, expiring), roles per centre,
reset links, and deactivation that closes a live console at once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.exceptions import ConnectionClosed

from clb.audit import AuditEvent
from clb.auth.models import AccountLink, StaffAccount
from clb.auth.service import purge_old_sessions
from clb.config import Settings
from clb.db import utcnow
from clb.jobs import OutboxJob, run_outbox_job
from clb.services import Services
from tests.chat.support import console, staff_cookie
from tests.clb.auth.helpers import form_token, login
from tests.conftest import free_port, make_centre, make_staff, serving_smtp

STRONG = "groene-fiets-zingt-vandaag"


@dataclass
class Inbox:
    port: int
    texts: list[tuple[str, str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        assert isinstance(body, EmailMessage)
        self.texts.append((envelope.rcpt_tos[0], body.get_content()))
        return "250 OK"

    def link(self, to: str) -> str:
        text = next(t for rcpt, t in reversed(self.texts) if rcpt == to)
        match = re.search(r"https?://\S+(/console/(?:uitnodiging|wachtwoord)/\S+)", text)
        assert match, text
        return match.group(1)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox(port=free_port())
    with serving_smtp(handler, handler.port):
        yield handler


@pytest.fixture
def settings(settings: Settings, inbox: Inbox) -> Settings:
    return settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{inbox.port}"})


async def run_jobs(services: Services, db: AsyncSession) -> None:
    """Run the outbox's pending jobs as the worker would."""
    for job in (await db.scalars(select(OutboxJob).where(OutboxJob.done_at.is_(None)))).all():
        await run_outbox_job(services, job.id, job.version)


async def as_coordinator(client: httpx.AsyncClient, db: AsyncSession) -> StaffAccount:
    coordinator = await make_staff(db, email="coord@clb.example", roles=("coordinator",))
    assert (await login(client, email="coord@clb.example")).status_code == 303
    return coordinator


async def post_form(client: httpx.AsyncClient, path: str, page: str, **data: Any) -> httpx.Response:
    token = await form_token(client, page)
    return await client.post(
        path, data={"csrf_token": token, **data}, headers={"accept": "text/html"}
    )


async def invite_mia(client: httpx.AsyncClient) -> httpx.Response:
    return await post_form(
        client,
        "/console/accounts",
        "/console/accounts",
        email="Mia@CLB.example",
        full_name="Mia Vos",
        display_name="Mia",
        roles=["counsellor"],
    )


async def test_an_invitation_is_mailed_and_works_once(
    client: httpx.AsyncClient, db: AsyncSession, services: Services, inbox: Inbox
) -> None:
    await as_coordinator(client, db)
    assert (await invite_mia(client)).status_code == 303
    mia = await db.scalar(select(StaffAccount).where(StaffAccount.email == "mia@clb.example"))
    assert mia is not None and mia.password_hash is None and mia.roles == ["counsellor"]
    await run_jobs(services, db)
    link = inbox.link("mia@clb.example")
    # No usable token rests in the database: only the hash of the mailed one.
    assert link.rsplit("/", 1)[1] not in str(
        (await db.execute(select(AccountLink.token_hash))).all()
    )
    fresh = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with fresh:
        page = await fresh.get(link)
        assert page.status_code == 200 and "Mia" in page.text
        weak = await post_form(
            fresh, link, link, password="aaaaaaaaaaaa", password_again="aaaaaaaaaaaa"
        )
        assert weak.status_code == 422 and "veelgebruikte" in weak.text
        done = await post_form(fresh, link, link, password=STRONG, password_again=STRONG)
        assert done.status_code == 303 and done.headers["location"] == "/console/login?wachtwoord=1"
        again = await fresh.get(link)
        assert again.status_code == 404 and "werkt niet meer" in again.text
        assert (await login(fresh, email="mia@clb.example", password=STRONG)).status_code == 303


async def test_an_expired_invitation_does_not_work(
    client: httpx.AsyncClient, db: AsyncSession, services: Services, inbox: Inbox
) -> None:
    await as_coordinator(client, db)
    await invite_mia(client)
    await run_jobs(services, db)
    link = inbox.link("mia@clb.example")
    await db.execute(update(AccountLink).values(expires_at=utcnow()))
    await db.commit()
    page = await client.get(link)
    assert page.status_code == 404 and "werkt niet meer" in page.text


async def test_a_coordinator_manages_only_their_own_centre_and_cannot_make_admins(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await as_coordinator(client, db)
    elsewhere = await make_staff(db, email="ander@clb.example")  # a centre of its own
    page = await client.get(f"/console/accounts/{elsewhere.id}", headers={"accept": "text/html"})
    assert page.status_code == 404
    admin = await post_form(
        client,
        "/console/accounts",
        "/console/accounts",
        email="x@clb.example",
        full_name="X",
        display_name="X",
        roles=["admin"],
    )
    assert admin.status_code == 422 and "Die rol mag je niet toekennen." in admin.text
    listing = await client.get("/console/accounts", headers={"accept": "text/html"})
    assert "ander@clb.example" not in listing.text
    assert (await client.get("/console/accounts")).status_code == 200


async def test_a_counsellor_cannot_manage_accounts(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db)
    await login(client)
    assert (await client.get("/console/accounts")).status_code == 403


async def test_roles_change_and_every_change_is_audited(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    coordinator = await as_coordinator(client, db)
    centre_id = coordinator.centre_id
    colleague = StaffAccount(
        email="jo@clb.example",
        full_name="Jo",
        display_name="Jo",
        centre_id=centre_id,
        roles=["counsellor"],
        password_hash=None,
    )
    db.add(colleague)
    await db.commit()
    page = f"/console/accounts/{colleague.id}"
    changed = await post_form(client, f"{page}/rollen", page, roles=["counsellor", "editor"])
    assert changed.status_code == 303
    await db.refresh(colleague)
    assert colleague.roles == ["counsellor", "editor"]
    none = await post_form(client, f"{page}/rollen", page)
    assert none.status_code == 422 and "Kies minstens één rol." in none.text
    actions = set(await db.scalars(select(AuditEvent.action)))
    assert "account.roles_set" in actions


async def test_deactivation_closes_a_live_console_socket_and_ends_every_session(
    live_server: str, db: AsyncSession
) -> None:
    centre = await make_centre(db, slug="clb-deact")
    await make_staff(db, email="coord@clb.example", roles=("coordinator",), centre=centre)
    an = await make_staff(db, email="an@clb.example", centre=centre)
    socket = await console(live_server, await staff_cookie(live_server, "an@clb.example"))
    async with httpx.AsyncClient(base_url=live_server) as http:
        assert (await login(http, email="coord@clb.example")).status_code == 303
        page = f"/console/accounts/{an.id}"
        done = await post_form(http, f"{page}/uit", page)
        assert done.status_code == 303
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(10):  # generous: a loaded machine; usually milliseconds
            while True:
                await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    async with httpx.AsyncClient(base_url=live_server) as http:
        assert (await login(http)).status_code == 401


async def test_a_reset_link_sets_a_new_password_and_logs_out_everywhere(
    client: httpx.AsyncClient, db: AsyncSession, services: Services, inbox: Inbox
) -> None:
    await make_staff(db)
    await login(client)
    fresh = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with fresh:
        asked = await post_form(
            fresh,
            "/console/wachtwoord-vergeten",
            "/console/wachtwoord-vergeten",
            email="an@clb.example",
        )
        unknown = await post_form(
            fresh,
            "/console/wachtwoord-vergeten",
            "/console/wachtwoord-vergeten",
            email="niemand@clb.example",
        )
        assert asked.status_code == unknown.status_code == 200
        assert asked.text.count("Heeft dit e-mailadres") == unknown.text.count(
            "Heeft dit e-mailadres"
        )
        await run_jobs(services, db)
        link = inbox.link("an@clb.example")
        done = await post_form(fresh, link, link, password=STRONG, password_again=STRONG)
        assert done.status_code == 303
    # The session that was open before the reset has ended.
    assert (await client.get("/console", headers={"accept": "text/html"})).status_code == 303


async def test_old_links_are_purged_with_old_sessions(db: AsyncSession) -> None:
    account = await make_staff(db)
    now = utcnow()
    for days, used in ((40, True), (40, False), (5, False)):
        db.add(
            AccountLink(
                account_id=account.id,
                purpose="reset",
                token_hash=f"{days}{used}".ljust(64, "0"),
                created_at=now - timedelta(days=days),
                expires_at=now - timedelta(days=days - 1),
                used_at=now - timedelta(days=days) if used else None,
            )
        )
    await db.commit()
    await purge_old_sessions(db)
    await db.commit()
    left = (await db.scalars(select(AccountLink.token_hash))).all()
    assert left == ["5False".ljust(64, "0")]
