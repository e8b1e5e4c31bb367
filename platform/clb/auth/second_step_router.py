"""The login's second step: after the password, a code from the authenticator app, a
recovery code, or a passkey. Failed codes count towards the same throttle as passwords."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth import passkeys, second_factor
from clb.auth import service as auth_service
from clb.auth.models import StaffAccount
from clb.auth.second_factor import PendingLogin
from clb.auth.tokens import hash_token
from clb.auth.web_login import finish_login
from clb.errors import InvalidCredentials, InvalidInput, RateLimited
from clb.i18n import gettext as _
from clb.services import Services
from clb.web.deps import ServicesDep, SessionDep
from clb.web.security import CsrfProtected, ip_hash
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

SECOND_STEP = "/console/login/tweede-stap"
PENDING_COOKIE = "clb_login_step"
WRONG_CODE = "Deze code klopt niet of is al gebruikt. Probeer de volgende code van je app."


def pending_cookie(response: Response, token: str, services: Services) -> None:
    response.set_cookie(
        PENDING_COOKIE,
        token,
        max_age=second_factor.PENDING_SECONDS,
        httponly=True,
        samesite="lax",
        secure=services.settings.secure_cookies,
        path="/console/login",
    )


async def _pending(
    request: Request, services: Services, session: AsyncSession
) -> tuple[str, PendingLogin, StaffAccount] | None:
    token = request.cookies.get(PENDING_COOKIE, "")
    pending = await second_factor.read_pending(services.redis, services.keys, token)
    if pending is None:
        return None
    account = await session.get(StaffAccount, pending.account_id)
    if account is None or not account.is_active:
        return None
    return token, pending, account


def _expired() -> Response:
    return RedirectResponse("/console/login?verlopen=1", status_code=303)


async def _finish(
    request: Request,
    session: AsyncSession,
    services: Services,
    token: str,
    pending: PendingLogin,
    account: StaffAccount,
    how: str,
) -> Response:
    await second_factor.end_pending(services.redis, services.keys, token)
    response = await finish_login(
        request, session, services, account, second_factor=how, next_url=pending.next_url
    )
    response.delete_cookie(PENDING_COOKIE, path="/console/login")
    return response


async def _page(
    request: Request,
    session: AsyncSession,
    account: StaffAccount,
    *,
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {
        "has_totp": account.totp_enabled_at is not None,
        "has_passkey": bool(await passkeys.passkeys_of(session, account.id)),
        "error": error,
    }
    return render(
        request, "login_second_step.html", context, status_code=status_code, headers=headers
    )


@router.get(SECOND_STEP, response_class=HTMLResponse)
async def second_step_page(
    request: Request, services: ServicesDep, session: SessionDep
) -> Response:
    found = await _pending(request, services, session)
    if found is None:
        return _expired()
    return await _page(request, session, found[2])


@router.post(SECOND_STEP)
async def second_step(
    request: Request,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    code: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    found = await _pending(request, services, session)
    if found is None:
        return _expired()
    token, pending, account = found
    throttle = auth_service.LoginThrottle(services.limiter, services.settings)
    address = ip_hash(request)
    try:
        await throttle.check(account.email, address)
    except RateLimited as exc:
        return await _page(
            request,
            session,
            account,
            error=_(exc.detail_message),
            status_code=exc.status,
            headers=exc.headers,
        )
    digits = "".join(code.split())
    if digits.isdigit():
        how = "totp" if await second_factor.check_totp(session, account, digits) else None
    else:
        how = "recovery" if await second_factor.use_recovery_code(session, account, code) else None
    if how is None:
        await throttle.failed(account.email, address)
        await session.commit()  # a failed try still counts; nothing else changed
        return await _page(
            request,
            session,
            account,
            error=_(WRONG_CODE),
            status_code=InvalidCredentials.status,
        )
    await throttle.succeeded(account.email, address)
    return await _finish(request, session, services, token, pending, account, how)


@router.post(SECOND_STEP + "/passkey-opties")
async def passkey_options(
    request: Request, _csrf: CsrfProtected, services: ServicesDep, session: SessionDep
) -> Response:
    found = await _pending(request, services, session)
    if found is None:
        raise InvalidInput("Je aanmelding is verlopen. Begin opnieuw met je wachtwoord.")
    token, _pending_login, account = found
    options = await passkeys.login_options(
        session,
        services.redis,
        services.keys,
        services.settings,
        account.id,
        owner=hash_token(token),
    )
    return Response(options, media_type="application/json")


@router.post(SECOND_STEP + "/passkey")
async def passkey_login(
    request: Request,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    credential: Annotated[dict[str, Any], Body(embed=True)],
) -> Response:
    found = await _pending(request, services, session)
    if found is None:
        raise InvalidInput("Je aanmelding is verlopen. Begin opnieuw met je wachtwoord.")
    token, pending, account = found
    await passkeys.verify_login(
        session,
        services.redis,
        services.keys,
        services.settings,
        account.id,
        owner=hash_token(token),
        credential=credential,
    )
    return await _finish(request, session, services, token, pending, account, "passkey")
