"""An outage of PostgreSQL or Redis is an answer, never a crash: a 503 with Retry-After and a
plain Dutch message (clb.health.outage), for the API and for pages alike."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from clb.config import Settings
from composition.app import create_app
from tests.conftest import free_port


@pytest.fixture
async def app_without_database(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with PostgreSQL unreachable: nothing listens on its port."""
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"
    app = create_app(settings.model_copy(update={"database_url": dead}))
    async with app.router.lifespan_context(app):
        yield app


async def test_postgresql_away_gives_a_503_with_retry_after(
    app_without_database: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    transport = httpx.ASGITransport(app=app_without_database, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        api = await http.get("/api/toolbox/tools", params={"q": "faalangst"})
        page = await http.get("/toolbox", headers={"accept": "text/html"})
    assert api.status_code == 503 and api.headers["retry-after"] == "5"
    error = api.json()["error"]
    assert error["code"] == "temporarily_unavailable"
    assert error["message"].startswith("Er is even een storing")
    assert page.status_code == 503 and "Er is even een storing" in page.text
    assert "Traceback" not in caplog.text and "faalangst" not in caplog.text
