"""Every HTTP operation in /openapi.json, called with hostile values where its schema says a
parameter or field goes: NUL and other controls, bidi overrides, huge numbers, far dates,
wrong types. Never a 5xx, and the injected text never reaches the log (issue 15)."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.clb.auth.helpers import login
from tests.conftest import make_staff

MARKER = "zzfuzzmarker"
STRINGS = [
    f"{MARKER}\x00nul",
    f"{MARKER}\x07\x1b[31m",
    f"\u202e{MARKER}",
    MARKER * 400,
    "",
]
NUMBERS: list[Any] = [-(2**63), 2**63, 10**30, -1, 1e308, "NaN"]
DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "99999-01-01T00:00:00Z"]


def hostile(schema: dict[str, Any], n: int) -> Any:
    """A hostile value for a schema (the n-th of its kind)."""
    kind = schema.get("type")
    if "anyOf" in schema:
        return hostile(schema["anyOf"][0], n)
    if schema.get("format") in ("date", "date-time"):
        return DATES[n % len(DATES)]
    if schema.get("format") == "uuid":
        return str(uuid.uuid4()) if n % 2 else f"{MARKER}\x00"
    if kind in ("integer", "number"):
        return NUMBERS[n % len(NUMBERS)]
    if kind == "boolean":
        return STRINGS[n % len(STRINGS)]
    if kind == "array":
        return [hostile(schema.get("items", {}), n)] * 3
    if kind == "object":
        props = schema.get("properties", {})
        return {name: hostile(sub, n + i) for i, (name, sub) in enumerate(props.items())}
    return STRINGS[n % len(STRINGS)]


def resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """Inline ``$ref``s (one level at a time, as needed)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return resolve(spec["components"]["schemas"][name], spec)
    if "properties" in schema:
        props = {k: resolve(v, spec) for k, v in schema["properties"].items()}
        return {**schema, "properties": props}
    if "anyOf" in schema:
        return {**schema, "anyOf": [resolve(s, spec) for s in schema["anyOf"]]}
    return schema


def requests_for(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    calls = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            for n in range(len(STRINGS)):
                url = path
                params: dict[str, Any] = {}
                for param in operation.get("parameters", []):
                    value = hostile(resolve(param.get("schema", {}), spec), n)
                    if param["in"] == "path":
                        url = url.replace("{" + param["name"] + "}", quote(str(value), safe=""))
                    elif param["in"] == "query":
                        params[param["name"]] = value if not isinstance(value, list) else value[0]
                body = operation.get("requestBody", {}).get("content", {})
                json_body = None
                if "application/json" in body:
                    json_body = hostile(resolve(body["application/json"]["schema"], spec), n)
                calls.append((method.upper(), url, {"params": params, "json": json_body}))
    return calls


@pytest.mark.parametrize("who", ["anonymous", "staff and visitor"])
async def test_no_operation_answers_hostile_input_with_a_5xx(
    client: httpx.AsyncClient, db: AsyncSession, caplog: pytest.LogCaptureFixture, who: str
) -> None:
    if who != "anonymous":  # past the login checks, into every operation's own validation
        await make_staff(db, roles=("admin", "counsellor", "coordinator", "editor"))
        assert (await login(client)).status_code == 303
        token = (await client.post("/api/visitors")).json()["token"]
        client.headers["authorization"] = f"Bearer {token}"
    spec = (await client.get("/openapi.json")).json()
    calls = requests_for(spec)
    assert len(calls) > 50
    failures = []
    with caplog.at_level(logging.DEBUG):
        for method, url, options in calls:
            response = await client.request(method, url, **options)
            if response.status_code >= 500:
                failures.append((method, url, response.status_code, response.text[:200]))
    assert failures == []
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    leaked = [r.getMessage()[:120] for r in server_side if MARKER in r.getMessage()]
    assert leaked == []
    traces = [r.exc_text or "" for r in server_side]
    assert not [t for t in traces if re.search(MARKER, t)]
