"""Use cases for managing staff accounts in one centre, each one audited.

A coordinator or administrator manages the accounts of their own centre only. Invitation
and reset links are single use and expire; the mail with the link is sent by the worker
(``clb.staff.tasks``), which also makes the link's token, so no usable token is ever stored.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import record_audit
from clb.auth import repository as auth_repository
from clb.auth.models import AccountLink, Role, StaffAccount
from clb.auth.password_policy import check_password
from clb.auth.passwords import hash_password_async
from clb.auth.service import normalise_email, staff_channel
from clb.auth.tokens import hash_token, new_token
from clb.db import after_commit, utcnow
from clb.errors import Conflict, Forbidden, InvalidInput, NotFound
from clb.jobs import schedule_job
from clb.services import Services
from clb.staff import repository

LINK_MAIL_JOB = "staff.link_mail"
INVITE, RESET = "invite", "reset"
# Roles a coordinator may give; only an administrator makes another administrator.
COORDINATOR_GRANTS = frozenset({Role.counsellor, Role.coordinator, Role.editor})
ACCOUNT = "staff_account"


def audit_account(
    session: AsyncSession, action: str, actor_id: uuid.UUID | None, account: StaffAccount
) -> None:
    record_audit(session, action, actor_id=actor_id, object_type=ACCOUNT, object_id=str(account.id))


def grantable_roles(manager: StaffAccount) -> list[Role]:
    allowed = set(Role) if Role.admin.value in manager.roles else COORDINATOR_GRANTS
    return [role for role in Role if role in allowed]


def _check_roles(manager: StaffAccount, roles: list[str]) -> list[str]:
    allowed = {role.value for role in grantable_roles(manager)}
    chosen = sorted(set(roles))
    if not chosen:
        raise InvalidInput("Kies minstens één rol.")
    if not set(chosen) <= allowed:
        raise Forbidden("Die rol mag je niet toekennen.")
    return chosen


async def account_of_centre(
    session: AsyncSession, manager: StaffAccount, account_id: uuid.UUID
) -> StaffAccount:
    account = await session.get(StaffAccount, account_id)
    if account is None or account.centre_id != manager.centre_id:
        raise NotFound()
    return account


async def _new_link(
    session: AsyncSession,
    services: Services,
    account: StaffAccount,
    purpose: str,
    created_by: uuid.UUID | None,
) -> None:
    """A link row with a placeholder hash (nothing can match it) and the job that mails it."""
    settings = services.settings
    valid = (
        timedelta(hours=settings.invite_valid_hours)
        if purpose == INVITE
        else timedelta(minutes=settings.reset_valid_minutes)
    )
    await repository.retire_links(session, account.id, purpose, utcnow())
    link = AccountLink(
        account_id=account.id,
        purpose=purpose,
        token_hash=hash_token(new_token()),
        expires_at=utcnow() + valid,
        created_by=created_by,
    )
    session.add(link)
    await session.flush()
    await schedule_job(session, services.jobs, LINK_MAIL_JOB, {"link_id": str(link.id)})


async def invite(
    session: AsyncSession,
    services: Services,
    manager: StaffAccount,
    *,
    email: str,
    full_name: str,
    display_name: str,
    roles: list[str],
) -> StaffAccount:
    email = normalise_email(email)
    chosen = _check_roles(manager, roles)
    if await auth_repository.account_by_email(session, email) is not None:
        raise Conflict("Er bestaat al een account met dit e-mailadres.")
    account = StaffAccount(
        email=email,
        full_name=full_name.strip(),
        display_name=display_name.strip(),
        centre_id=manager.centre_id,
        roles=chosen,
        password_hash=None,
        is_active=True,
    )
    session.add(account)
    await session.flush()
    await _new_link(session, services, account, INVITE, manager.id)
    audit_account(session, "account.invited", manager.id, account)
    return account


async def resend_invitation(
    session: AsyncSession, services: Services, manager: StaffAccount, account: StaffAccount
) -> None:
    if account.password_hash is not None or account.sso_subject is not None:
        raise Conflict("Deze persoon heeft de uitnodiging al aanvaard.")
    await _new_link(session, services, account, INVITE, manager.id)
    audit_account(session, "account.invited", manager.id, account)


async def send_reset(
    session: AsyncSession,
    services: Services,
    account: StaffAccount,
    *,
    by: uuid.UUID | None,
) -> None:
    """A reset link to the account's own address (asked by the person or a coordinator)."""
    if not account.is_active:
        return
    await _new_link(session, services, account, RESET, by)
    audit_account(session, "account.reset_sent", by, account)


async def set_roles(
    session: AsyncSession, manager: StaffAccount, account: StaffAccount, roles: list[str]
) -> None:
    chosen = _check_roles(manager, roles)
    if Role.admin.value in account.roles and Role.admin.value not in manager.roles:
        raise Forbidden("Alleen een beheerder wijzigt de rollen van een beheerder.")
    if account.id == manager.id and not {Role.coordinator.value, Role.admin.value} & set(chosen):
        raise InvalidInput("Je kan jezelf het beheer van accounts niet afnemen.")
    account.roles = chosen
    audit_account(session, "account.roles_set", manager.id, account)


async def end_sessions(
    session: AsyncSession,
    services: Services,
    account_id: uuid.UUID,
    *,
    keep: uuid.UUID | None = None,
) -> int:
    """End the account's sessions (but ``keep``) at once; their open sockets close."""
    ended = await repository.end_sessions(session, account_id, utcnow(), keep=keep)
    if ended:
        event = {"type": "session_ended", "session_ids": [str(i) for i in ended]}
        channel = staff_channel(services.keys, account_id)
        after_commit(session, lambda: services.bus.publish(channel, event))
    return len(ended)


async def deactivate(
    session: AsyncSession, services: Services, manager: StaffAccount, account: StaffAccount
) -> None:
    if account.id == manager.id:
        raise InvalidInput("Je kan je eigen account niet uitschakelen.")
    if Role.admin.value in account.roles and Role.admin.value not in manager.roles:
        raise Forbidden("Alleen een beheerder schakelt een beheerder uit.")
    account.is_active = False
    account.deactivated_at = utcnow()
    await repository.retire_links(session, account.id, None, utcnow())
    await end_sessions(session, services, account.id)
    audit_account(session, "account.deactivated", manager.id, account)


async def reactivate(session: AsyncSession, manager: StaffAccount, account: StaffAccount) -> None:
    account.is_active = True
    account.deactivated_at = None
    audit_account(session, "account.reactivated", manager.id, account)


def password_problem(password: str, account: StaffAccount) -> tuple[str, int] | None:
    verdict = check_password(
        password, personal=(account.full_name, account.display_name, account.email)
    )
    return (verdict.problem, verdict.count) if verdict.problem else None


async def usable_link(session: AsyncSession, token: str) -> tuple[AccountLink, StaffAccount]:
    """The link for ``token`` if unused, unexpired and its account active; else NotFound."""
    found = await repository.live_link(session, hash_token(token), utcnow())
    if found is None:
        raise NotFound("Deze link werkt niet meer. Vraag een nieuwe aan.")
    return found


async def use_link(
    session: AsyncSession, services: Services, token: str, password: str
) -> StaffAccount:
    """Set the password through an invitation or reset link, which then stops working.
    A reset also ends every session: whoever knew the old password is logged out."""
    link, account = await usable_link(session, token)
    problem = password_problem(password, account)
    if problem is not None:
        raise InvalidInput(problem[0], details={"count": problem[1]})
    if not await repository.mark_link_used(session, link.id, utcnow()):
        raise NotFound("Deze link werkt niet meer. Vraag een nieuwe aan.")
    account.password_hash = await hash_password_async(password)
    if link.purpose == RESET:
        await end_sessions(session, services, account.id)
    action = "account.invite_accepted" if link.purpose == INVITE else "account.password_reset"
    audit_account(session, action, account.id, account)
    return account
