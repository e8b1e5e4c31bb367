"""The application factory: one FastAPI app serving pages, the API and (later) WebSockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from clb import i18n
from clb.config import Settings, with_secret_key
from clb.error_pages import install_error_handlers
from clb.jobs import load_task_modules
from clb.observability import Metrics, RequestContextMiddleware
from clb.security import SecurityHeadersMiddleware
from clb.services import Services
from clb.templating import FRONTEND_DIR, create_environment


class LanguageMiddleware:
    """Picks the language for each request: the visitor's choice, else Accept-Language."""

    def __init__(self, app: ASGIApp, *, translators: dict[str, i18n.Translator], default: str):
        self.app = app
        self.translators = translators
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            chosen = None
            for part in headers.get("cookie", "").split(";"):
                name, _, value = part.strip().partition("=")
                if name == i18n.LANGUAGE_COOKIE:
                    chosen = value
            language = i18n.negotiate_language(chosen, headers.get("accept-language"), self.default)
            i18n.use_translator(self.translators[language])
        await self.app(scope, receive, send)


def create_app(settings: Settings) -> FastAPI:
    """Build the app. ``settings`` must carry real database and Redis URLs (the CLI starts
    embedded servers first when none are configured)."""
    settings = with_secret_key(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await Services.start(settings)
        app.state.services = services
        try:
            yield
        finally:
            await services.stop()

    app = FastAPI(
        title="CLB-platform",
        version="0.1.0",
        summary="Chat, afspraken, aanvragen en toolbox van de CLB",
        lifespan=lifespan,
        # Served by clb.api_docs from local files: no CDN, no inline script (CSP).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.templates = create_environment()
    metrics = Metrics()
    app.state.metrics = metrics

    install_error_handlers(app)
    _include_routers(app)
    load_task_modules()
    app.mount("/static", StaticFiles(directory=FRONTEND_DIR / "static"), name="static")
    app.mount("/api-docs-assets", StaticFiles(directory=swagger_ui_path), name="api-docs-assets")

    # Added last = outermost: ids and language first, headers on every response.
    app.add_middleware(
        LanguageMiddleware, translators=i18n.load_translators(), default=settings.default_language
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app


def _include_routers(app: FastAPI) -> None:
    from chat.canned_admin import router as canned_admin_router
    from chat.opening_hours_admin import router as opening_hours_router
    from chat.router import router as chat_router
    from chat.statistics_router import router as chat_statistics_router
    from chat.supervision_router import router as supervision_router
    from chat.tools_router import router as chat_tools_router
    from chat.triage_admin import router as triage_router
    from clb.api_docs import router as api_docs_router
    from clb.auth.router import router as auth_router
    from clb.dev_mailbox import router as dev_mailbox_router
    from clb.ops import router as ops_router
    from clb.pages import router as pages_router
    from scheduling.agenda_router import router as agenda_router
    from scheduling.api import router as scheduling_api_router
    from scheduling.appointment_router import router as appointment_console_router
    from scheduling.availability_router import router as availability_router
    from scheduling.closed_periods_router import router as closed_periods_router
    from scheduling.manage_router import router as scheduling_manage_router
    from scheduling.meeting_console_router import router as meeting_console_router
    from scheduling.meeting_router import router as meeting_router
    from scheduling.router import router as scheduling_router
    from toolbox.editorial_router import router as toolbox_editorial_router
    from toolbox.router import router as toolbox_router
    from toolbox.schools_router import api_router as toolbox_api_router
    from toolbox.schools_router import router as toolbox_schools_router

    for router in (
        ops_router,
        # Early: requests are matched against routes in order, and booking is the hot path.
        scheduling_api_router,
        api_docs_router,
        pages_router,
        auth_router,
        chat_router,
        triage_router,
        opening_hours_router,
        chat_statistics_router,
        supervision_router,
        chat_tools_router,
        canned_admin_router,
        scheduling_router,
        scheduling_manage_router,
        meeting_router,
        meeting_console_router,
        agenda_router,
        appointment_console_router,
        availability_router,
        closed_periods_router,
        # Before toolbox_router, whose /toolbox/{page} would catch /toolbox/embed etc.
        toolbox_schools_router,
        toolbox_api_router,
        toolbox_router,
        toolbox_editorial_router,
        dev_mailbox_router,
    ):
        app.include_router(router)
