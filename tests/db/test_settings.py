"""Settings: read from a mapping once, every problem reported at once, defaults per PRODUCT.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrator.settings import SettingsError, load_settings


def test_defaults_follow_the_public_contract() -> None:
    settings = load_settings({})
    assert settings.database_url == "sqlite:///integrator.db"
    assert settings.config_dir == Path("config")
    assert settings.shopify_api_version == "2026-04"
    assert settings.shopify_secrets == ()


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(
            {
                "SHOPIFY_SHOP": "not a shop",
                "SHOPIFY_API_VERSION": "latest",
                "DATABASE_URL": "nowhere",
                "ENCRYPTION_KEY": "short",
                "WEBHOOK_MAX_BYTES": "lots",
                "LOG_JSON": "maybe",
                "SHOPIFY_ADMIN_URL": "ftp://x",
            }
        )
    named = [problem.split(":")[0] for problem in raised.value.problems]
    assert named == [
        "SHOPIFY_SHOP",
        "SHOPIFY_API_VERSION",
        "DATABASE_URL",
        "SHOPIFY_CLIENT_SECRET",
        "SHOPIFY_ADMIN_URL",
        "ENCRYPTION_KEY",
        "WEBHOOK_MAX_BYTES",
        "LOG_JSON",
    ]


def test_secret_rotation_accepts_both_secrets_newest_first() -> None:
    settings = load_settings(
        {
            "SHOPIFY_CLIENT_ID": "app",
            "SHOPIFY_CLIENT_SECRET": "new",
            "SHOPIFY_OLD_CLIENT_SECRET": "old",
        }
    )
    assert settings.shopify_secrets == ("new", "old")
    assert "new" not in repr(settings) and "old" not in repr(settings)


def test_dotenv_is_read_under_the_real_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_URL=sqlite:///from-dotenv.db\nADMIN_TOKEN=from-dotenv\n")
    monkeypatch.setenv("ADMIN_TOKEN", "from-environment")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings(env_file=env_file)
    assert settings.database_url == "sqlite:///from-dotenv.db"
    assert settings.admin_token == "from-environment"
