from __future__ import annotations

import os
from pathlib import Path

import pytest

from clb.config import Settings, SettingsError, load_settings, with_secret_key
from tests.composition.test_cli import clb

ROOT = Path(__file__).resolve().parents[2]


def test_bad_database_url_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLB_DATABASE_URL", "nonsense")
    with pytest.raises(SettingsError, match=r"^Invalid setting CLB_DATABASE_URL: .*postgresql"):
        load_settings()


def test_bad_setting_fails_the_cli_fast_with_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "CLB_DATABASE_URL": "nonsense", "CLB_DATA_DIR": str(tmp_path)}
    result = clb("migrate", env=env, timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("clb: Invalid setting CLB_DATABASE_URL")
    assert "Traceback" not in result.stderr


def test_out_of_range_number_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLB_SESSION_IDLE_MINUTES", "1")
    with pytest.raises(SettingsError, match="CLB_SESSION_IDLE_MINUTES"):
        load_settings()


def test_production_requires_a_secret_key(tmp_path: Path) -> None:
    settings = Settings(env="production", data_dir=tmp_path)
    with pytest.raises(SettingsError, match="CLB_SECRET_KEY"):
        with_secret_key(settings)


def test_development_secret_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = with_secret_key(Settings(data_dir=tmp_path))
    second = with_secret_key(Settings(data_dir=tmp_path))
    assert first.secret_key == second.secret_key
    assert first.secret_key is not None and len(first.secret_key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_https_public_url_turns_on_secure_cookies() -> None:
    assert Settings(public_url="https://clb.example.be/").secure_cookies
    assert Settings(public_url="https://clb.example.be/").public_origin == "https://clb.example.be"
    assert not Settings(public_url="http://127.0.0.1:8000").secure_cookies


def test_database_url_is_normalised_to_asyncpg() -> None:
    settings = Settings(database_url="postgresql://u@db/clb")
    assert settings.database_url == "postgresql+asyncpg://u@db/clb"
