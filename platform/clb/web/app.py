"""The application factory: one FastAPI app serving pages, the API and (later) WebSockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from clb import i18n
from clb.config import Settings, with_secret_key
from clb.health.metrics import Metrics
from clb.services import Services
from clb.web.error_pages import install_error_handlers
from clb.web.input_hygiene import InputHygieneMiddleware
from clb.web.language import LanguageMiddleware
from clb.web.observability import RequestContextMiddleware
from clb.web.security import SecurityHeadersMiddleware
from clb.web.templating import FRONTEND_DIR, create_environment


def create_app(settings: Settings, routers: Sequence[APIRouter]) -> FastAPI:
    """Build the app from the given routers (the composition root, ``composition.app``,
    names them: the kernel knows no domain). ``settings`` must carry real database and
    Redis URLs (the CLI starts embedded servers first when none are configured)."""
    settings = with_secret_key(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await Services.start(settings, metrics=metrics)
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
        # Served by clb.web.api_docs from local files: no CDN, no inline script (CSP).
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # True once the process is shutting down (``clb serve`` sets it on SIGTERM): /readyz
    # then answers 503.
    app.state.draining = False
    app.state.templates = create_environment()
    metrics = Metrics()
    app.state.metrics = metrics

    install_error_handlers(app)
    # In the order given: requests are matched against routes in that order.
    for router in routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=FRONTEND_DIR / "static"), name="static")
    app.mount("/api-docs-assets", StaticFiles(directory=swagger_ui_path), name="api-docs-assets")

    # Added last = outermost: ids and language first, headers on every response; input is
    # cleaned before any route reads it.
    app.add_middleware(InputHygieneMiddleware)
    app.add_middleware(
        LanguageMiddleware, translators=i18n.translators(), default=settings.default_language
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app
