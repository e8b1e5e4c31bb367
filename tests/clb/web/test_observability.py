"""Logs are JSON with a request id and the route template; no paths, queries or content."""

from __future__ import annotations

import logging

import httpx
import orjson
import pytest

from clb.web.observability import JsonFormatter


async def test_access_log_names_the_route_template_not_the_url(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="clb.access"):
        response = await client.get("/taal/en", params={"next": "/geheim-pad?naam=Lotte"})
    record = next(r for r in caplog.records if r.name == "clb.access")
    line = orjson.loads(JsonFormatter().format(record))
    assert line["route"] == "/taal/{language}"
    assert line["status"] == 303
    assert line["request_id"] == response.headers["x-request-id"]
    assert "Lotte" not in str(line) and "geheim" not in str(line)


def test_formatter_writes_one_json_object_per_line_with_extras() -> None:
    record = logging.LogRecord(
        "clb.test", logging.WARNING, __file__, 1, "job %s failed", (7,), None
    )
    record.ip_hash = "abc"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = orjson.loads(line)
    assert data["msg"] == "job 7 failed"
    assert data["level"] == "WARNING"
    assert data["ip_hash"] == "abc"
    assert data["ts"].endswith("+00:00")
