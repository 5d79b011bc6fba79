from __future__ import annotations

import pytest

from fabcom.i18n import gettext, negotiate_locale
from fabcom.settings import ConfigError, load_settings


def test_defaults_use_a_sqlite_file_in_var(tmp_path, monkeypatch):
    monkeypatch.delenv("FABCOM_DATABASE_URL", raising=False)
    settings = load_settings(var_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite://{tmp_path.resolve()}/fabcom.sqlite3"
    assert settings.is_sqlite
    assert settings.redis_url == ""


def test_modules_are_read_comma_separated(monkeypatch):
    monkeypatch.setenv("FABCOM_MODULES", " bookings, ressourcerie ,")
    assert load_settings().modules == ["bookings", "ressourcerie"]


def test_the_secret_key_is_generated_once_and_kept(tmp_path):
    first = load_settings(var_dir=tmp_path).ensure_secret_key()
    second = load_settings(var_dir=tmp_path).ensure_secret_key()
    assert first == second
    assert len(first) >= 60
    assert load_settings(var_dir=tmp_path / "other").ensure_secret_key() != first


def test_an_explicit_secret_key_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("FABCOM_SECRET_KEY", "from-the-environment")
    assert load_settings(var_dir=tmp_path).ensure_secret_key() == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "FABCOM_DATABASE_URL",
            "mysql://x",
            "FABCOM_DATABASE_URL: must start with sqlite://, postgres:// or postgresql://",
        ),
        ("FABCOM_DEFAULT_LOCALE", "de", "FABCOM_DEFAULT_LOCALE: must be fr or en"),
        ("FABCOM_PORT", "70000", "FABCOM_PORT: Input should be less than or equal to 65535"),
        ("FABCOM_LOG_LEVEL", "LOUD", "FABCOM_LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
    ],
)
def test_bad_values_raise_one_line_naming_the_variable(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("header", "preferred", "locale"),
    [
        ("en-GB,en;q=0.9,fr;q=0.8", None, "en"),
        ("de-DE,fr;q=0.5,en;q=0.4", None, "fr"),
        ("de-DE", None, "fr"),
        (None, None, "fr"),
        ("en", "fr", "fr"),
        ("fr;q=0.2,en;q=0.9", None, "en"),
        ("garbage;q=x", None, "fr"),
    ],
)
def test_locale_negotiation(header, preferred, locale):
    assert negotiate_locale(header, preferred) == locale


def test_messages_are_translated_with_their_parameters():
    assert gettext("fr", "Unknown organization {slug}.", slug="atelier") == "Organisation inconnue : atelier."
    assert gettext("en", "Unknown organization {slug}.", slug="atelier") == "Unknown organization atelier."
