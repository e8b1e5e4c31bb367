"""``/console/accounts``: a centre's coordinators and administrators invite colleagues,
give roles, send a reset link, end sessions and deactivate accounts; and decide whether
their centre requires a second factor."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import EmailStr, TypeAdapter, ValidationError

from clb.audit import record_audit
from clb.auth.models import ROLE_LABELS, StaffAccount
from clb.db import utcnow
from clb.errors import ClbError, NotFound
from clb.i18n import gettext as _
from clb.org.models import Centre
from clb.staff import repository, service
from clb.web.deps import CurrentCoordinator, ServicesDep, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE = "/console/accounts"
DONE = {
    "uitgenodigd": "De uitnodiging is verstuurd.",
    "rollen": "De rollen zijn bewaard.",
    "herstel": "De link voor een nieuw wachtwoord is verstuurd.",
    "sessies": "Alle sessies van deze persoon zijn beëindigd.",
    "uit": "Het account is uitgeschakeld. Alle sessies zijn beëindigd.",
    "aan": "Het account is weer ingeschakeld.",
    "tweede-stap": "De instelling is bewaard.",
}
_EMAIL = TypeAdapter(EmailStr)


def _status(account: StaffAccount, invitation_open: bool) -> str:
    if not account.is_active:
        return _("Uitgeschakeld")
    if account.password_hash is None and account.sso_subject is None:
        return _("Uitnodiging loopt") if invitation_open else _("Uitnodiging verlopen")
    return _("Actief")


def _done(request: Request) -> str | None:
    key = request.query_params.get("ok", "")
    return _(DONE[key]) if key in DONE else None


async def _list_page(
    request: Request,
    manager: StaffAccount,
    session: SessionDep,
    *,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    request.state.staff = manager
    rows = await repository.accounts_of_centre(session, manager.centre_id, utcnow())
    centre = await session.get(Centre, manager.centre_id)
    context = {
        "accounts": [
            {
                "account": row.account,
                "status": _status(row.account, row.invitation_open),
                "roles": ", ".join(_(ROLE_LABELS[r]) for r in row.account.roles),
                "sessions": row.live_sessions,
            }
            for row in rows
        ],
        "grantable": [(r.value, _(ROLE_LABELS[r.value])) for r in service.grantable_roles(manager)],
        "second_factor_required": centre.second_factor_required if centre else True,
        "form": form or {},
        "error": error,
        "done": _done(request),
    }
    return render(request, "console_accounts.html", context, status_code=status_code)


@router.get(PAGE, response_class=HTMLResponse)
async def accounts_page(
    request: Request, manager: CurrentCoordinator, session: SessionDep
) -> HTMLResponse:
    return await _list_page(request, manager, session)


@router.post(PAGE)
async def invite(
    request: Request,
    manager: CurrentCoordinator,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    full_name: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=60)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    form = {"email": email, "full_name": full_name, "display_name": display_name, "roles": roles}
    error = None
    try:
        _EMAIL.validate_python(email.strip())
    except ValidationError:
        error = _("Vul een geldig e-mailadres in, zoals naam@clb.be.")
    if not error and not (full_name.strip() and display_name.strip()):
        error = _("Vul de volledige naam en de naam in de chat in.")
    if error is None:
        try:
            await service.invite(
                session,
                services,
                manager,
                email=email,
                full_name=full_name,
                display_name=display_name,
                roles=roles or [],
            )
        except ClbError as exc:
            error = _(exc.detail_message)
    if error is not None:  # refused before anything was written
        return await _list_page(request, manager, session, form=form, error=error, status_code=422)
    return RedirectResponse(f"{PAGE}?ok=uitgenodigd", status_code=303)


@router.post(f"{PAGE}/tweede-stap")
async def set_second_factor_required(
    request: Request,
    manager: CurrentCoordinator,
    _csrf: CsrfProtected,
    session: SessionDep,
    required: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    centre = await session.get(Centre, manager.centre_id)
    if centre is not None:
        centre.second_factor_required = required == "ja"
        action = "on" if centre.second_factor_required else "off"
        record_audit(
            session,
            f"centre.second_factor_{action}",
            actor_id=manager.id,
            object_type="centre",
            object_id=str(centre.id),
        )
    return RedirectResponse(f"{PAGE}?ok=tweede-stap", status_code=303)


async def _account_page(
    request: Request,
    manager: StaffAccount,
    session: SessionDep,
    account: StaffAccount,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    request.state.staff = manager
    sessions = await repository.live_sessions(session, account.id, utcnow())
    invitation_open = await repository.invitation_open(session, account.id, utcnow())
    context = {
        "account": account,
        "status": _status(account, invitation_open),
        "pending": account.password_hash is None and account.sso_subject is None,
        "sessions": sessions,
        "grantable": [(r.value, _(ROLE_LABELS[r.value])) for r in service.grantable_roles(manager)],
        "is_self": account.id == manager.id,
        "error": error,
        "done": _done(request),
    }
    return render(request, "console_account.html", context, status_code=status_code)


@router.get(PAGE + "/{account_id}", response_class=HTMLResponse)
async def account_page(
    request: Request, manager: CurrentCoordinator, session: SessionDep, account_id: uuid.UUID
) -> HTMLResponse:
    account = await service.account_of_centre(session, manager, account_id)
    return await _account_page(request, manager, session, account)


@router.post(PAGE + "/{account_id}/{action}")
async def account_action(
    request: Request,
    manager: CurrentCoordinator,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    account_id: uuid.UUID,
    action: str,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    account = await service.account_of_centre(session, manager, account_id)
    try:
        done = await _perform(action, session, services, manager, account, roles or [])
    except ClbError as exc:  # every refusal comes before anything is written
        message = _(exc.detail_message)
        return await _account_page(
            request, manager, session, account, error=message, status_code=exc.status
        )
    return RedirectResponse(f"{PAGE}/{account_id}?ok={done}", status_code=303)


async def _perform(
    action: str,
    session: SessionDep,
    services: ServicesDep,
    manager: StaffAccount,
    account: StaffAccount,
    roles: list[str],
) -> str:
    """Carry out one of the account page's buttons; returns the DONE key to show."""
    if action == "rollen":
        await service.set_roles(session, manager, account, roles)
    elif action == "herstel":
        await service.send_reset(session, services, account, by=manager.id)
    elif action == "uitnodiging":
        await service.resend_invitation(session, services, manager, account)
        return "uitgenodigd"
    elif action == "sessies":
        await service.end_sessions(session, services, account.id)
        service.audit_account(session, "account.sessions_ended", manager.id, account)
    elif action == "uit":
        await service.deactivate(session, services, manager, account)
    elif action == "aan":
        await service.reactivate(session, manager, account)
    else:
        raise NotFound()
    return action
