from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

from clb.errors import ClbError


class SlotTaken(ClbError):
    status = 409
    code = "slot_taken"
    message = "Dit moment is net door iemand anders geboekt."


class Payload(BaseModel):
    nickname: str = Field(max_length=40)


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    @app.get("/api/test/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: user 42 said something private")

    @app.get("/boom")
    async def boom_page() -> None:
        raise RuntimeError("secret internals")

    @app.post("/api/test/conflict")
    async def conflict() -> None:
        raise SlotTaken()

    @app.post("/api/test/echo")
    async def echo(payload: Payload, page: Annotated[int, Query(ge=1)] = 1) -> Payload:
        return payload

    return app


async def test_unknown_page_gets_a_friendly_dutch_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/bestaat-niet", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Deze pagina bestaat niet (meer)." in response.text
    assert "Naar de startpagina" in response.text


async def test_unknown_api_route_gets_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/bestaat-niet", headers={"accept": "text/html"})
    assert response.status_code == 404
    body = response.json()["error"]
    assert body["code"] == "not_found"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_typed_error_becomes_its_status_and_code(
    failing_app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post("/api/test/conflict")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_taken"
    assert response.json()["error"]["message"] == "Dit moment is net door iemand anders geboekt."


async def test_validation_errors_list_fields_without_echoing_input(
    failing_app: FastAPI, client: httpx.AsyncClient
) -> None:
    private = "x" * 41 + " mijn adres is Kerkstraat 1"
    response = await client.post("/api/test/echo?page=0", json={"nickname": private})
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "validation_failed"
    fields = {item["field"] for item in body["details"]["fields"]}
    assert fields == {"nickname", "query.page"}
    assert "Kerkstraat" not in response.text


async def test_malformed_json_is_a_clear_422(
    failing_app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/api/test/echo", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"


async def test_crash_shows_no_stack_trace(failing_app: FastAPI, app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        api = await http.get("/api/test/boom")
        page = await http.get("/boom", headers={"accept": "text/html"})
    assert api.status_code == 500
    assert api.json()["error"]["code"] == "internal_error"
    assert "secret internals" not in api.text and "Traceback" not in api.text
    assert page.status_code == 500
    assert "Er ging bij ons iets mis" in page.text
    assert "secret internals" not in page.text
    assert "unsafe-inline" not in page.headers["content-security-policy"]


async def test_errors_speak_english_when_asked(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/bestaat-niet", headers={"accept-language": "en-GB,en;q=0.8"})
    assert response.json()["error"]["message"] != "Deze pagina bestaat niet (meer)."
