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
    assert response.json()["loops"] == {"bus_publish": "ok"}


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


async def test_metrics_show_what_the_operator_needs(client: httpx.AsyncClient) -> None:
    body = (await client.get("/metrics")).text
    for name in (
        "clb_sockets_open",
        "clb_bus_subscriptions",
        "clb_chat_send_ack_seconds_bucket",
        'clb_chat_queue_waiting{state="present"} 0.0',
        'clb_chat_queue_waiting{state="away"} 0.0',
        "clb_outbox_backlog 0.0",
        "clb_outbox_oldest_due_seconds 0.0",
        "clb_jobs_failed 0.0",
        "clb_worker_heartbeat_age_seconds -1.0",
        'clb_background_loop_failing{loop="bus_publish"} 0.0',
    ):
        assert name in body, name


async def test_metrics_are_refused_to_clients_from_outside(live_server: str) -> None:
    # Behind the proxy, the client address is the one it passes on.
    async with httpx.AsyncClient(base_url=live_server) as http:
        outside = await http.get("/metrics", headers={"x-forwarded-for": "203.0.113.9"})
        inside = await http.get("/metrics", headers={"x-forwarded-for": "10.1.2.3"})
    assert outside.status_code == 404 and inside.status_code == 200
