"""Ending a login in the browser: the session cookie, and where the person goes next.

Every way in (password, password + second factor, single sign-on) ends here, so the cookie,
the audit record and the rule "a centre that requires a second factor gets one" are the
same for all of them.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth import service as auth_service
from clb.auth.models import StaffAccount
from clb.services import Services
from clb.web.deps import session_cookie_name
from clb.web.pages import safe_next
from clb.web.security import set_csrf_cookie

SECURITY_PAGE = "/console/beveiliging"


def device_label(user_agent: str) -> str:
    """A coarse name for the browser and system ("Chrome op Windows"): enough for a person
    to recognise their own sessions, too little to single out a device."""
    agent = user_agent.lower()
    browser = next(
        (
            name
            for key, name in (
                ("edg/", "Edge"),
                ("firefox/", "Firefox"),
                ("chrome/", "Chrome"),
                ("chromium/", "Chromium"),
                ("safari/", "Safari"),
            )
            if key in agent
        ),
        "Browser",
    )
    system = next(
        (
            name
            for key, name in (
                ("android", "Android"),
                ("iphone", "iPhone"),
                ("ipad", "iPad"),
                ("windows", "Windows"),
                ("mac os", "macOS"),
                ("cros", "ChromeOS"),
                ("linux", "Linux"),
            )
            if key in agent
        ),
        "",
    )
    return f"{browser} op {system}" if system else browser


async def finish_login(
    request: Request,
    session: AsyncSession,
    services: Services,
    account: StaffAccount,
    *,
    second_factor: str | None,
    next_url: str,
) -> Response:
    """Start the session and send the browser on. Without a second factor, where the
    account's centre requires one, the session may only set one up (the security page)."""
    enrolment_only = second_factor is None and await auth_service.second_factor_required(
        session, account
    )
    token = await auth_service.start_session(
        session,
        account,
        services.settings,
        second_factor=second_factor,
        enrolment_only=enrolment_only,
        device=device_label(request.headers.get("user-agent", "")),
    )
    target = SECURITY_PAGE + "?instellen=1" if enrolment_only else safe_next(next_url)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        session_cookie_name(services.settings),
        token,
        httponly=True,
        samesite="lax",
        secure=services.settings.secure_cookies,
        path="/",
    )
    set_csrf_cookie(request, response, rotate=True)
    return response
