"""The pages behind the mailed links: accept an invitation or choose a new password; and
"Wachtwoord vergeten?", which sends a reset link without telling who has an account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clb.auth import repository as auth_repository
from clb.auth.service import normalise_email
from clb.errors import InvalidInput, NotFound
from clb.i18n import gettext as _
from clb.ratelimit import Rate
from clb.staff import service
from clb.staff.service import INVITE
from clb.staff.tasks import INVITE_PATH, RESET_PATH
from clb.web.deps import ServicesDep, SessionDep
from clb.web.security import CsrfProtected, ip_hash
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

FORGOT_PAGE = "/console/wachtwoord-vergeten"
# Reset mails per address: enough for a person who mistyped, too few to flood a colleague.
FORGOT_RATE = Rate(5, 3600)
LINK_HEADERS = {"Referrer-Policy": "no-referrer"}  # the token must not leak to other sites


async def _link_page(
    request: Request,
    session: SessionDep,
    token: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        link, account = await service.usable_link(session, token)
    except NotFound as exc:
        context = {"invalid": _(exc.detail_message)}
        return render(
            request, "login_password_link.html", context, status_code=404, headers=LINK_HEADERS
        )
    page: dict[str, object] = {
        "invitation": link.purpose == INVITE,
        "name": account.display_name,
        "email": account.email,
        "error": error,
        "action": request.url.path,
    }
    return render(
        request, "login_password_link.html", page, status_code=status_code, headers=LINK_HEADERS
    )


async def _use_link(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    token: str,
    password: str,
    repeated: str,
) -> Response:
    if password != repeated:
        return await _link_page(
            request,
            session,
            token,
            status_code=422,
            error=_("De twee wachtwoorden zijn niet gelijk."),
        )
    try:
        await service.use_link(session, services, token, password)
    except InvalidInput as exc:
        message = _(exc.detail_message).format(count=exc.details.get("count", 0))
        return await _link_page(request, session, token, error=message, status_code=422)
    except NotFound:
        return await _link_page(request, session, token)
    return RedirectResponse("/console/login?wachtwoord=1", status_code=303)


async def link_page(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    return await _link_page(request, session, token)


async def use_link(
    request: Request,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    token: str,
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    return await _use_link(request, services, session, token, password, password_again)


# An invitation and a reset differ only in what the page says (the link knows its purpose).
for path in (INVITE_PATH, RESET_PATH):
    router.add_api_route(path + "{token}", link_page, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(path + "{token}", use_link, methods=["POST"])


@router.get(FORGOT_PAGE, response_class=HTMLResponse)
async def forgot_page(request: Request) -> HTMLResponse:
    return render(request, "login_forgot.html", {})


@router.post(FORGOT_PAGE)
async def forgot(
    request: Request,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    decision = await services.limiter.hit(f"login:forgot:{ip_hash(request)}", FORGOT_RATE)
    decision.raise_if_denied()
    account = await auth_repository.account_by_email(session, normalise_email(email))
    if account is not None and account.password_hash is not None:
        await service.send_reset(session, services, account, by=None)
    # The same answer either way: this page does not tell who has an account.
    return render(request, "login_forgot.html", {"sent": True})
