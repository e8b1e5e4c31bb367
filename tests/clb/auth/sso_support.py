"""A real OpenID Connect provider for the single sign-on tests, and a browser that walks
between it and the app.

The provider is the npm package oidc-provider (package-lock.json pins it; ``make test``
and ``make pytest`` install it with ``npm ci``), run by ``oidc_provider/provider.mjs`` with
the machine's Node.js. Without Node.js or the package the tests skip on a developer's
machine, but fail in CI (``CI=true``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest

from clb.auth.sso import CALLBACK_PATH
from tests.conftest import PUBLIC_URL, ROOT, free_port

PROVIDER_SCRIPT = Path(__file__).parent / "oidc_provider" / "provider.mjs"
PROVIDER_PACKAGE = ROOT / "node_modules" / "oidc-provider" / "package.json"

CONFIDENTIAL_CLIENT = "clb-platform"
CLIENT_SECRET = "een-geheim-van-de-test-provider"
PUBLIC_CLIENT = "clb-platform-public"

# The provider's accounts, by sub. An's address has capitals: matching is case-blind.
ACCOUNTS = {
    "an": {"email": "An@CLB.example", "email_verified": True},
    "bert": {"email": "bert@clb.example", "email_verified": False},
    "nobody": {"email": "nobody@clb.example", "email_verified": True},
    "els": {"email": "els@clb.example", "email_verified": True},
}


@dataclass(frozen=True)
class RunningProvider:
    issuer: str
    port: int


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI needs Node.js and `npm ci` for the single sign-on tests")
    pytest.skip(reason)


def _wait_until_ready(issuer: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the test provider exited with code {process.returncode}")
        try:
            found = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2)
            if found.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the test provider at {issuer} was not ready within {timeout} s")


def run_provider(log_dir: Path, *, claims_in_id_token: bool = False) -> Iterator[RunningProvider]:
    """Start the provider on a free port and stop it afterwards. ``claims_in_id_token``:
    the ID token carries the e-mail claims (else only the UserInfo endpoint has them)."""
    node = shutil.which("node")
    if node is None:
        _unavailable("Node.js not found")
    if not PROVIDER_PACKAGE.exists():
        _unavailable("node_modules/oidc-provider missing (run `npm ci`)")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    callback = PUBLIC_URL + CALLBACK_PATH
    config = {
        "port": port,
        "issuer": issuer,
        "clients": [
            {
                "client_id": CONFIDENTIAL_CLIENT,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [callback],
            },
            {
                "client_id": PUBLIC_CLIENT,
                "token_endpoint_auth_method": "none",
                "redirect_uris": [callback],
            },
        ],
        "accounts": ACCOUNTS,
        "claimsInIdToken": claims_in_id_token,
    }
    env = {**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)}
    with (log_dir / "provider.log").open("wb") as log:
        process = subprocess.Popen(
            [str(node), str(PROVIDER_SCRIPT)], env=env, cwd=ROOT, stdout=log, stderr=log
        )
        try:
            _wait_until_ready(issuer, process, timeout=30)
            yield RunningProvider(issuer, port)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def with_params(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **params})))


def without_param(url: str, name: str) -> str:
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items() if key != name}
    return urlunsplit(parts._replace(query=urlencode(query)))


def query_param(url: str, name: str) -> str:
    return parse_qs(urlsplit(url).query)[name][-1]


class Browser:
    """One browser: the app (in process) and the provider (over the network), each with
    its own cookies, following redirects by hand the way a browser does."""

    def __init__(self, app: httpx.AsyncClient, provider: httpx.AsyncClient) -> None:
        self.app = app
        self.provider = provider

    def _client_for(self, url: str) -> httpx.AsyncClient:
        return self.app if url.startswith(PUBLIC_URL) else self.provider

    async def start(self, centre: str, next_url: str = "/console") -> httpx.Response:
        query = urlencode({"centre": centre, "next": next_url})
        return await self.app.get(f"/console/login/sso?{query}")

    async def log_in_at_provider(self, authorization_url: str, account: str) -> str:
        """Log in as ``account`` at the provider; the URL it sends the browser back to
        (the app's callback), not yet followed."""
        url = with_params(authorization_url, login_hint=account)
        for _hop in range(12):
            if url.startswith(PUBLIC_URL + CALLBACK_PATH):
                return url
            answer = await self._client_for(url).get(url)
            location = answer.headers.get("location")
            assert answer.status_code in (302, 303) and location, (answer.status_code, answer.text)
            url = urljoin(url, location)
        raise AssertionError("the provider never sent the browser back")

    async def callback_url(self, centre: str, account: str, next_url: str = "/console") -> str:
        """Start at the app and log in at the provider: the callback URL to follow."""
        started = await self.start(centre, next_url)
        assert started.status_code == 303, started.text
        return await self.log_in_at_provider(started.headers["location"], account)

    async def log_in(self, centre: str, account: str, next_url: str = "/console") -> httpx.Response:
        """The whole flow; the app's answer at the callback."""
        return await self.app.get(await self.callback_url(centre, account, next_url))
