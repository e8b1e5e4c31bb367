from __future__ import annotations

import httpx


async def test_healthz_answers_without_dependencies(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_database_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    await client.get("/bestaat-niet/123")
    body = (await client.get("/metrics")).text
    assert 'clb_http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert 'route="unmatched",status="404"' in body
    assert "/bestaat-niet" not in body


async def test_every_response_has_a_request_id_and_security_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/")
    assert len(response.headers["x-request-id"]) == 16
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"


async def test_openapi_docs_are_served_from_local_files(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text and "<script>" not in page.text
    for asset in (
        "/api-docs-assets/swagger-ui-bundle.js",
        "/api-docs-assets/swagger-ui.css",
        "/static/js/api-docs.js",
    ):
        assert asset in page.text
        assert (await client.get(asset)).status_code == 200
    schema = (await client.get("/openapi.json")).json()
    assert "/api/visitors" in schema["paths"]
