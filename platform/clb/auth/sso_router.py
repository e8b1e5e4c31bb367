"""Single sign-on pages: off to the centre's identity provider, and back (clb.auth.sso)."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from clb.auth import sso
from clb.auth.tokens import new_token
from clb.auth.web_login import finish_login
from clb.ratelimit import Rate
from clb.services import Services
from clb.web.deps import ServicesDep, SessionDep
from clb.web.pages import safe_next
from clb.web.security import ip_hash
from clb.web.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

# A centre's staff behind one address start their day together; each start keeps a flow in
# Redis for a while, so starts are counted per (hashed) address.
SSO_START_RATE = Rate(120, 900)


def _refused(request: Request, refusal: sso.SsoRefused, centre: str, next_url: str) -> Response:
    # The reason and the centre's slug only: never an address, a name or a token.
    log.warning(
        "single sign-on refused: %s (%s)",
        refusal.reason,
        refusal.detail,
        extra={"centre": centre[:80], "sso_reason": refusal.reason},
    )
    context = {
        "reason": refusal.reason,
        "login_url": "/console/login?next=" + quote(safe_next(next_url), safe="/"),
    }
    return render(request, "login_sso_error.html", context, status_code=refusal.status)


def _browser_id(request: Request) -> str:
    """The browser's flow cookie: kept when there is one, so two tabs can each log in."""
    current = request.cookies.get(sso.BROWSER_COOKIE, "")
    return current if 32 <= len(current) <= 64 else new_token()


def _bind_browser(response: Response, browser: str, services: Services) -> None:
    response.set_cookie(
        sso.BROWSER_COOKIE,
        browser,
        max_age=sso.FLOW_SECONDS,
        httponly=True,
        samesite="lax",
        secure=services.settings.secure_cookies,
        path=sso.START_PATH,
    )


@router.get(sso.START_PATH)
async def sso_start(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    centre: str = "",
    next: str = "/console",
) -> Response:
    """Off to the centre's provider, with a new flow kept for this browser."""
    decision = await services.limiter.hit(f"sso:start:{ip_hash(request)}", SSO_START_RATE)
    decision.raise_if_denied()
    next_url = safe_next(next[:500])
    try:
        found = await sso.centre_by_slug(session, centre)
        browser = _browser_id(request)
        target = await sso.start_flow(services, found, next_url, browser)
    except sso.SsoRefused as refusal:
        return _refused(request, refusal, centre, next_url)
    response = RedirectResponse(target, status_code=303)
    _bind_browser(response, browser, services)
    return response


@router.get(sso.CALLBACK_PATH)
async def sso_callback(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    state: str = "",
    code: str = "",
    error: str = "",
    iss: str | None = None,
) -> Response:
    """Back from the provider: the flow is used up, the answer checked, the account
    matched, and the session started (the provider's login counts as the second factor:
    it enforces its own)."""
    centre, next_url = "", "/console"
    try:
        flow = await sso.take_flow(services, state, request.cookies.get(sso.BROWSER_COOKIE, ""))
        next_url = flow.next_url
        found = await sso.flow_centre(session, flow)
        centre = found.slug
        if error:
            said = "".join(ch for ch in error[:40] if ch.isalnum() or ch == "_")
            raise sso.SsoRefused("provider_error", 400, f"provider said {said}")
        identity = await sso.identify(services, found, flow, code, iss)
        account = await sso.match_account(session, found, identity)
    except sso.SsoRefused as refusal:
        return _refused(request, refusal, centre, next_url)
    return await finish_login(
        request, session, services, account, second_factor="sso", next_url=next_url
    )
