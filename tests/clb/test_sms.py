"""The SMS channel: the recording default, the development mailbox, and plugging in a
provider by dotted path."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI

from clb.config import Settings, SettingsError, load_settings
from clb.message_folder import ENTRY_NAME
from clb.services import Services
from clb.sms import (
    OutboxLogSmsTransport,
    OutgoingSms,
    SmsTransport,
    load_transport_class,
    sms_from_settings,
)
from composition.app import create_app
from tests.composition.test_cli import clb
from tests.conftest import PUBLIC_URL

NUMBER = "+32470123456"
TEXT = "CLB: je afspraak staat vast op di 1/12 om 10 uur. Wijzigen: https://clb.example/a/x"


class RecordingTransport:
    """A stand-in provider, loaded by the tests through CLB_SMS_TRANSPORT."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sent: list[OutgoingSms] = []

    async def send(self, sms: OutgoingSms) -> None:
        self.sent.append(sms)


class NoSend:
    def __init__(self, settings: Settings) -> None:
        pass


def no_class() -> None:
    pass


def record_text(record: logging.LogRecord) -> str:
    return " ".join(str(value) for value in record.__dict__.values())


async def test_without_a_folder_an_sms_is_only_logged_without_number_or_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = OutboxLogSmsTransport()
    with caplog.at_level(logging.INFO, logger="clb.sms"):
        await transport.send(OutgoingSms(to=NUMBER, text=TEXT))
    [record] = [r for r in caplog.records if r.name == "clb.sms"]
    assert record.getMessage() == "sms recorded, provider not configured"
    assert NUMBER not in record_text(record) and "afspraak" not in record_text(record)


async def test_with_a_folder_an_sms_is_kept_as_a_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    transport = OutboxLogSmsTransport(tmp_path / "postvak")
    with caplog.at_level(logging.INFO, logger="clb.sms"):
        await transport.send(OutgoingSms(to=NUMBER, text=TEXT))
    [stored] = await asyncio.to_thread(lambda: list((tmp_path / "postvak").iterdir()))
    assert ENTRY_NAME.match(stored.name) and stored.suffix == ".sms"
    assert stored.stat().st_mode & 0o077 == 0
    data = orjson.loads(await asyncio.to_thread(stored.read_bytes))
    assert (data["to"], data["text"]) == (NUMBER, TEXT)
    assert data["recorded_at"].endswith("+00:00")
    [record] = [r for r in caplog.records if r.name == "clb.sms"]
    assert NUMBER not in record_text(record) and "afspraak" not in record_text(record)


@pytest.mark.parametrize(("to", "text"), [("", TEXT), (NUMBER, ""), (NUMBER, "x" * 1601)])
def test_an_sms_needs_a_number_and_a_sensible_text(to: str, text: str) -> None:
    with pytest.raises(ValueError, match="SMS"):
        OutgoingSms(to=to, text=text)


@pytest.fixture
async def mailbox_client(mailbox_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=mailbox_app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        http.headers["accept"] = "text/html"
        yield http


async def test_services_record_sms_where_the_dev_mailbox_shows_them(
    mailbox_app: FastAPI, mailbox_client: httpx.AsyncClient
) -> None:
    services: Services = mailbox_app.state.services
    assert isinstance(services.sms, OutboxLogSmsTransport)
    await services.sms.send(OutgoingSms(to=NUMBER, text=TEXT))

    listing = await mailbox_client.get("/dev/postvak")
    assert listing.status_code == 200
    assert "mailbox-kind-sms" in listing.text and ">sms<" in listing.text
    assert NUMBER in listing.text and "je afspraak staat vast" in listing.text
    [name] = [line.split('"')[1] for line in listing.text.splitlines() if "/dev/postvak/2" in line]
    assert name.endswith(".sms")

    page = await mailbox_client.get(name)
    assert page.status_code == 200
    assert f"Sms aan {NUMBER}" in page.text and TEXT in page.text
    assert "alleen bewaard, niet verstuurd" in page.text
    # An SMS has no attachments to download.
    assert (await mailbox_client.get(f"{name}/bijlage/0")).status_code == 404


def test_the_default_transport_uses_the_dev_mailbox_folder(tmp_path: Path) -> None:
    transport = sms_from_settings(Settings(dev_mailbox_dir=tmp_path))
    assert isinstance(transport, OutboxLogSmsTransport) and transport.mailbox_dir == tmp_path
    assert isinstance(transport, SmsTransport)


def test_a_provider_is_loaded_by_dotted_path_and_built_with_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLB_SMS_TRANSPORT", "tests.clb.test_sms:RecordingTransport")
    settings = load_settings()
    transport = sms_from_settings(settings)
    assert isinstance(transport, RecordingTransport) and transport.settings is settings
    assert load_transport_class("tests.clb.test_sms:RecordingTransport") is RecordingTransport


async def test_services_use_the_configured_provider(settings: Settings) -> None:
    app = create_app(
        settings.model_copy(update={"sms_transport": "tests.clb.test_sms:RecordingTransport"})
    )
    async with app.router.lifespan_context(app):
        transport = app.state.services.sms
        assert isinstance(transport, RecordingTransport)
        await transport.send(OutgoingSms(to=NUMBER, text=TEXT))
        assert transport.sent == [OutgoingSms(to=NUMBER, text=TEXT)]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("clb_sms_provider_that_does_not_exist:Transport", "cannot import module"),
        ("tests.clb.test_sms", "must be module:Class"),
        ("tests.clb.test_sms:Missing", "has no class Missing"),
        ("tests.clb.test_sms:no_class", "has no class no_class"),
        ("tests.clb.test_sms:NoSend", "NoSend has no send() method"),
        ("../evil:Transport", "must be module:Class"),
    ],
)
def test_a_bad_dotted_path_is_one_clear_settings_line(
    monkeypatch: pytest.MonkeyPatch, path: str, reason: str
) -> None:
    monkeypatch.setenv("CLB_SMS_TRANSPORT", path)
    with pytest.raises(SettingsError, match=r"^Invalid setting CLB_SMS_TRANSPORT: ") as bad:
        load_settings()
    assert reason in str(bad.value) and len(str(bad.value).splitlines()) == 1
    # Settings copied without validation are checked again when the transport is built.
    with pytest.raises(SettingsError, match=r"^Invalid setting CLB_SMS_TRANSPORT: "):
        sms_from_settings(Settings(sms_transport=None).model_copy(update={"sms_transport": path}))


def test_a_bad_dotted_path_stops_the_cli_with_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CLB_SMS_TRANSPORT": "clb_sms_provider_that_does_not_exist:Transport",
        "CLB_DATA_DIR": str(tmp_path),
    }
    result = clb("migrate", env=env, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "clb: Invalid setting CLB_SMS_TRANSPORT: Value error, cannot import module "
        "clb_sms_provider_that_does_not_exist (ModuleNotFoundError)"
    ]
