"""``/console/beveiliging``: a staff member's own security. The code app (TOTP) with its
recovery codes, passkeys, the password, and their open sessions. A login that still has
to set up a second factor may open this page and nothing else."""

from __future__ import annotations

import io
import uuid
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Body, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import record_audit
from clb.auth import passkeys, second_factor, totp
from clb.auth.models import StaffSession
from clb.auth.passwords import hash_password_async, verify_password_async
from clb.auth.web_login import SECURITY_PAGE
from clb.db import utcnow
from clb.i18n import gettext as _
from clb.services import Services
from clb.staff import repository as staff_repository
from clb.staff import service as staff_service
from clb.web.deps import LiveStaffSession, ServicesDep, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

DONE = {
    "code-app-uit": "De code-app is verwijderd.",
    "passkey": "De passkey is toegevoegd.",
    "passkey-uit": "De passkey is verwijderd.",
    "wachtwoord": "Je wachtwoord is gewijzigd.",
    "sessies": "Je bent afgemeld op al je andere toestellen.",
}


def _qr(uri: str) -> Markup:
    out = io.BytesIO()
    segno.make(uri, error="m", micro=False).save(
        out, kind="svg", dark="#000", light="#fff", border=4, omitsize=True, xmldecl=False
    )
    return Markup(out.getvalue().decode("utf-8"))  # noqa: S704 - segno's own SVG, no input


def _upgrade(staff_session: StaffSession, how: str) -> None:
    """A login that could only set up its second factor now has one."""
    if staff_session.enrolment_only:
        staff_session.enrolment_only = False
        staff_session.second_factor = how


async def _page(
    request: Request,
    services: Services,
    session: AsyncSession,
    staff_session: StaffSession,
    *,
    extra: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    account = staff_session.account
    request.state.staff = account
    setting_up = account.totp_secret is not None and account.totp_enabled_at is None
    sessions = await staff_repository.live_sessions(session, account.id, utcnow())
    key = request.query_params.get("ok", "")
    context: dict[str, Any] = {
        "account": account,
        "enrolment_only": staff_session.enrolment_only,
        "this_session": staff_session.id,
        "sessions": sessions,
        "passkeys": await passkeys.passkeys_of(session, account.id),
        "passkeys_here": passkeys.usable_here(services.settings),
        "recovery_left": await second_factor.recovery_codes_left(session, account.id),
        "totp_qr": None,
        "totp_secret": None,
        "done": _(DONE[key]) if key in DONE else None,
        "errors": {},
    }
    if setting_up and account.totp_secret is not None:
        uri = totp.provisioning_uri(account.totp_secret, account.email, passkeys.RP_NAME)
        context["totp_qr"] = _qr(uri)
        # Grouped by four for typing into an app by hand.
        secret = account.totp_secret
        context["totp_secret"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    context.update(extra or {})
    return render(request, "console_security.html", context, status_code=status_code)


@router.get(SECURITY_PAGE, response_class=HTMLResponse)
async def security_page(
    request: Request, staff_session: LiveStaffSession, services: ServicesDep, session: SessionDep
) -> HTMLResponse:
    return await _page(request, services, session, staff_session)


@router.post(SECURITY_PAGE + "/code-app")
async def start_totp(
    staff_session: LiveStaffSession, _csrf: CsrfProtected, session: SessionDep
) -> Response:
    second_factor.begin_totp(staff_session.account)
    return RedirectResponse(SECURITY_PAGE + "#code-app", status_code=303)


@router.post(SECURITY_PAGE + "/code-app/bevestigen")
async def confirm_totp(
    request: Request,
    staff_session: LiveStaffSession,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    codes = await second_factor.confirm_totp(session, staff_session.account, code)
    if codes is None:
        message = _("Deze code klopt niet. Typ de code die de app nu toont.")
        return await _page(
            request,
            services,
            session,
            staff_session,
            extra={"errors": {"code": message}},
            status_code=422,
        )
    _upgrade(staff_session, "totp")
    return await _page(request, services, session, staff_session, extra={"new_codes": codes})


@router.post(SECURITY_PAGE + "/code-app/verwijderen")
async def remove_totp(
    staff_session: LiveStaffSession, _csrf: CsrfProtected, session: SessionDep
) -> Response:
    await second_factor.remove_totp(session, staff_session.account)
    return RedirectResponse(SECURITY_PAGE + "?ok=code-app-uit", status_code=303)


@router.post(SECURITY_PAGE + "/herstelcodes")
async def new_recovery_codes(
    request: Request,
    staff_session: LiveStaffSession,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    codes = await second_factor.new_recovery_codes(session, staff_session.account)
    record_audit(session, "account.recovery_codes_renewed", actor_id=staff_session.account_id)
    return await _page(request, services, session, staff_session, extra={"new_codes": codes})


@router.post(SECURITY_PAGE + "/passkey-opties")
async def passkey_options(
    staff_session: LiveStaffSession,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    options = await passkeys.registration_options(
        session,
        services.redis,
        services.keys,
        services.settings,
        staff_session.account,
        owner=str(staff_session.id),
    )
    return Response(options, media_type="application/json")


@router.post(SECURITY_PAGE + "/passkey")
async def add_passkey(
    staff_session: LiveStaffSession,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    credential: Annotated[dict[str, Any], Body()],
    name: Annotated[str, Body(max_length=60)] = "",
) -> Response:
    await passkeys.register(
        session,
        services.redis,
        services.keys,
        services.settings,
        staff_session.account,
        str(staff_session.id),
        credential,
        name,
    )
    _upgrade(staff_session, "passkey")
    return RedirectResponse(SECURITY_PAGE + "?ok=passkey", status_code=303)


@router.post(SECURITY_PAGE + "/passkey/{passkey_id}/verwijderen")
async def remove_passkey(
    staff_session: LiveStaffSession,
    _csrf: CsrfProtected,
    session: SessionDep,
    passkey_id: uuid.UUID,
) -> Response:
    await passkeys.remove(session, staff_session.account, passkey_id)
    return RedirectResponse(SECURITY_PAGE + "?ok=passkey-uit", status_code=303)


@router.post(SECURITY_PAGE + "/wachtwoord")
async def change_password(
    request: Request,
    staff_session: LiveStaffSession,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    current: Annotated[str, Form(max_length=1024)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    account = staff_session.account
    errors: dict[str, str] = {}
    if not await verify_password_async(account.password_hash, current):
        errors["current"] = _("Je huidige wachtwoord klopt niet.")
    elif password != password_again:
        errors["password"] = _("De twee wachtwoorden zijn niet gelijk.")
    else:
        problem = staff_service.password_problem(password, account)
        if problem is not None:
            errors["password"] = _(problem[0]).format(count=problem[1])
    if errors:
        return await _page(
            request, services, session, staff_session, extra={"errors": errors}, status_code=422
        )
    account.password_hash = await hash_password_async(password)
    await staff_service.end_sessions(session, services, account.id, keep=staff_session.id)
    record_audit(session, "account.password_changed", actor_id=account.id)
    return RedirectResponse(SECURITY_PAGE + "?ok=wachtwoord", status_code=303)


@router.post(SECURITY_PAGE + "/sessies")
async def end_other_sessions(
    staff_session: LiveStaffSession,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
) -> Response:
    await staff_service.end_sessions(
        session, services, staff_session.account_id, keep=staff_session.id
    )
    return RedirectResponse(SECURITY_PAGE + "?ok=sessies", status_code=303)
