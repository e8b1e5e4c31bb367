"""Turn every failure into a clear answer: JSON for the API, a friendly Dutch page for people."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from clb import i18n
from clb.errors import (
    ClbError,
    NotAuthenticated,
    SecondFactorSetupNeeded,
    TemporarilyUnavailable,
)
from clb.health.outage import is_outage, note_outage
from clb.web.security import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from clb.web.templating import render

log = logging.getLogger(__name__)

HTTP_MESSAGES = {
    400: "Er ging iets mis met je vraag.",
    401: "Meld je eerst aan.",
    403: "Je hebt geen toegang tot deze pagina.",
    404: "Deze pagina bestaat niet (meer).",
    405: "Dat kan hier niet.",
    413: "Dat is te groot om te versturen.",
    422: "Niet alle gegevens zijn juist ingevuld.",
    429: "Te veel pogingen na elkaar. Wacht even en probeer dan opnieuw.",
    500: "Er ging bij ons iets mis. Probeer het later opnieuw.",
    503: "Het platform is even niet bereikbaar. Probeer het binnen enkele minuten opnieuw.",
}
HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def wants_html(request: Request) -> bool:
    if request.url.path.startswith(("/api/", "/healthz", "/readyz", "/metrics")):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    request_id = getattr(request.state, "request_id", "")
    if wants_html(request):
        return render(
            request,
            "error.html",
            {"status": status, "message": i18n.gettext(message)},
            status_code=status,
            headers=headers,
        )
    body: dict[str, Any] = {"code": code, "message": i18n.gettext(message)}
    if details:
        body["details"] = details
    if request_id:
        body["request_id"] = request_id
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    # Field and reason only: the offending input could be personal, so it is not echoed.
    return [
        {"field": ".".join(str(p) for p in err["loc"] if p != "body"), "reason": err["msg"]}
        for err in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    async def clb_error(request: Request, exc: Exception) -> Response:
        exc = cast(ClbError, exc)
        if isinstance(exc, NotAuthenticated) and wants_html(request):
            target = "/console/login?next=" + quote(request.url.path)
            return RedirectResponse(target, status_code=303)
        if isinstance(exc, SecondFactorSetupNeeded) and wants_html(request):
            return RedirectResponse("/console/beveiliging?instellen=1", status_code=303)
        return error_response(
            request,
            exc.status,
            exc.code,
            exc.detail_message,
            details=exc.details,
            headers=exc.headers,
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        exc = cast(StarletteHTTPException, exc)
        status = exc.status_code
        message = HTTP_MESSAGES.get(status, HTTP_MESSAGES[400 if status < 500 else 500])
        code = HTTP_CODES.get(status, "error")
        return error_response(request, status, code, message, headers=exc.headers)

    async def validation_error(request: Request, exc: Exception) -> Response:
        exc = cast(RequestValidationError, exc)
        return error_response(
            request,
            422,
            "validation_failed",
            HTTP_MESSAGES[422],
            details={"fields": _field_errors(exc)},
        )

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        if is_outage(exc):
            # Overload or an outage is an answer: try again shortly.
            note_outage(log, "http request", exc)
            unavailable = TemporarilyUnavailable()
            response = error_response(
                request,
                unavailable.status,
                unavailable.code,
                unavailable.detail_message,
                details=unavailable.details,
                headers=unavailable.headers,
            )
        else:
            log.error("unhandled error", exc_info=exc)
            response = error_response(request, 500, "internal_error", HTTP_MESSAGES[500])
        # This handler runs outside the middleware stack, so add what it would have added.
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers.update(SECURITY_HEADERS)
        response.headers["X-Frame-Options"] = "DENY"
        return response

    app.add_exception_handler(ClbError, clb_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
