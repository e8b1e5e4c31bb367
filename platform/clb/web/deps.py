"""Request dependencies as ``Annotated`` aliases: services, the DB session, who is asking."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth import service as auth_service
from clb.auth.models import Role, StaffAccount, StaffSession, Visitor
from clb.config import Settings
from clb.db import transaction
from clb.errors import Forbidden, NotAuthenticated, SecondFactorSetupNeeded
from clb.services import Services


async def get_services(request: Request) -> Services:
    # Async on purpose: FastAPI runs a plain-function dependency in a worker thread, a
    # thread hop on every request for what is an attribute lookup.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the endpoint returns (before the response
    is sent, so a client never sees success for something not yet durable)."""
    async with transaction(services.sessionmaker) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def session_cookie_name(settings: Settings) -> str:
    return "__Host-clb_session" if settings.secure_cookies else "clb_session"


async def optional_staff_session(
    request: Request, services: ServicesDep, session: SessionDep
) -> StaffSession | None:
    token = request.cookies.get(session_cookie_name(services.settings))
    if not token:
        return None
    return await auth_service.resolve_session(session, token, services.settings)


OptionalStaffSession = Annotated[StaffSession | None, Depends(optional_staff_session)]


async def live_staff_session(staff_session: OptionalStaffSession) -> StaffSession:
    """Any live login, including one that may only set up its second factor."""
    if staff_session is None:
        raise NotAuthenticated()
    return staff_session


LiveStaffSession = Annotated[StaffSession, Depends(live_staff_session)]


async def current_staff(staff_session: LiveStaffSession) -> StaffAccount:
    if staff_session.enrolment_only:
        raise SecondFactorSetupNeeded()
    return staff_session.account


CurrentStaff = Annotated[StaffAccount, Depends(current_staff)]


def require_role(role: Role) -> Callable[[StaffAccount], Coroutine[Any, Any, StaffAccount]]:
    async def check(account: CurrentStaff) -> StaffAccount:
        if not account.has_role(role):
            raise Forbidden()
        return account

    return check


CurrentCounsellor = Annotated[StaffAccount, Depends(require_role(Role.counsellor))]
CurrentCoordinator = Annotated[StaffAccount, Depends(require_role(Role.coordinator))]
CurrentEditor = Annotated[StaffAccount, Depends(require_role(Role.editor))]
CurrentAdmin = Annotated[StaffAccount, Depends(require_role(Role.admin))]


async def current_visitor(request: Request, session: SessionDep) -> Visitor:
    """Anonymous visitors send their token in a header, never in the URL (it would be logged)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("Je gesprek is niet meer gevonden. Begin gerust opnieuw.")
    visitor = await auth_service.resolve_visitor(session, token.strip())
    if visitor is None:
        raise NotAuthenticated("Je gesprek is niet meer gevonden. Begin gerust opnieuw.")
    return visitor


VisitorDep = Annotated[Visitor, Depends(current_visitor)]
