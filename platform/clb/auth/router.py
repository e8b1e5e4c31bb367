"""Staff login/logout pages and the console home; the anonymous visitor API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from clb.auth import second_factor
from clb.auth import service as auth_service
from clb.auth.models import ROLE_LABELS
from clb.auth.second_step_router import SECOND_STEP, pending_cookie
from clb.auth.sso import centres_with_sso
from clb.auth.web_login import finish_login
from clb.errors import InvalidCredentials, RateLimited
from clb.i18n import gettext as _
from clb.ratelimit import Rate
from clb.web.deps import (
    CurrentStaff,
    OptionalStaffSession,
    ServicesDep,
    SessionDep,
    VisitorDep,
    session_cookie_name,
)
from clb.web.pages import safe_next
from clb.web.security import CsrfProtected, ip_hash
from clb.web.templating import render

router = APIRouter()

# A school's computer room shares one address: a class, each pupil more than once. Beyond
# that, the proof of work before each token grows dearer (clb.auth.work).
VISITOR_CREATION_RATE = Rate(120, 3600)


@router.get("/console/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page(
    request: Request,
    staff_session: OptionalStaffSession,
    session: SessionDep,
    next: str | None = None,
) -> Response:
    if staff_session is not None:
        return RedirectResponse(safe_next(next or "/console"), status_code=303)
    context = {
        "next": safe_next(next or "/console"),
        "sso_centres": await centres_with_sso(session),
    }
    return render(request, "login.html", context)


@router.post("/console/login", include_in_schema=False)
async def login(
    request: Request,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=500)] = "/console",
) -> Response:
    throttle = auth_service.LoginThrottle(services.limiter, services.settings)
    try:
        account = await auth_service.authenticate(
            session, throttle, email, password, ip_hash(request)
        )
    except (InvalidCredentials, RateLimited) as exc:
        context = {
            "next": safe_next(next),
            "email": email,
            "error": _(exc.detail_message),
            "sso_centres": await centres_with_sso(session),
        }
        return render(request, "login.html", context, status_code=exc.status, headers=exc.headers)
    if await second_factor.has_second_factor(session, account):
        pending = second_factor.PendingLogin(account.id, safe_next(next))
        step = await second_factor.start_pending(services.redis, services.keys, pending)
        response = RedirectResponse(SECOND_STEP, status_code=303)
        pending_cookie(response, step, services)
        return response
    return await finish_login(
        request, session, services, account, second_factor=None, next_url=next
    )


@router.post("/console/logout", include_in_schema=False)
async def logout(
    request: Request, _csrf: CsrfProtected, services: ServicesDep, session: SessionDep
) -> Response:
    cookie = session_cookie_name(services.settings)
    token = request.cookies.get(cookie)
    if token:
        await auth_service.end_session(session, services.bus, services.keys, token)
    response = RedirectResponse("/console/login?afgemeld=1", status_code=303)
    response.delete_cookie(
        cookie, path="/", secure=services.settings.secure_cookies, httponly=True, samesite="lax"
    )
    return response


@router.get("/console", response_class=HTMLResponse, include_in_schema=False)
async def console_home(request: Request, staff: CurrentStaff) -> HTMLResponse:
    request.state.staff = staff
    return render(request, "console_home.html", {"role_labels": ROLE_LABELS})


class VisitorToken(BaseModel):
    token: str


class VisitorStatus(BaseModel):
    active: bool


@router.post("/api/visitors", status_code=201, tags=["visitors"])
async def create_visitor(
    request: Request, services: ServicesDep, session: SessionDep
) -> VisitorToken:
    """Start an anonymous identity. Keep the token in sessionStorage and send it as
    ``Authorization: Bearer <token>``; it is never shown again and never put in a URL."""
    decision = await services.limiter.hit(f"visitors:new:{ip_hash(request)}", VISITOR_CREATION_RATE)
    decision.raise_if_denied()
    _visitor, token = await auth_service.new_visitor(session)
    return VisitorToken(token=token)


@router.get("/api/visitors/me", tags=["visitors"])
async def visitor_status(visitor: VisitorDep) -> VisitorStatus:
    """Check that a stored visitor token still works."""
    return VisitorStatus(active=True)
