"""Settings: read once at start from the environment (and ``.env``) into one frozen object.

Nothing here runs at import time; ``load_settings`` is called by the composition root
(``integrator.bootstrap``) and by tests with a plain dict.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from dotenv import dotenv_values

# the console and admin API stay closed with a shorter ADMIN_TOKEN (guessable offline or online)
ADMIN_TOKEN_MIN_LENGTH = 32
SHOP_DOMAIN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")
API_VERSION = re.compile(r"^\d{4}-\d{2}$|^unstable$")
RESOLVERS = ("system", "sandbox")


class SettingsError(Exception):
    """Raised with every invalid or missing variable named at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid settings:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///integrator.db"
    config_dir: Path = Path("config")
    shopify_client_id: str = ""
    shopify_client_secret: str = field(default="", repr=False)
    shopify_old_client_secret: str = field(default="", repr=False)
    shopify_shop: str = ""
    shopify_api_version: str = "2026-04"
    shopify_admin_url: str = ""
    shopify_admin_token: str = field(default="", repr=False)
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    admin_token: str = field(default="", repr=False)
    webhook_max_bytes: int = 1_048_576
    # compliance and uninstall deliveries triggered longer ago than this are not acted on
    webhook_max_age_hours: int = 48
    # "system" DNS, or "sandbox" (integrator.sandbox.dns) for runs against the sandboxes
    print_file_resolver: str = "system"
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_json: bool = True
    # proxies in front of the web role that append to X-Forwarded-For (the client's address)
    trusted_proxies: int = 0
    # where the sign-in limiter, the supplier rate limiters and circuit breakers keep their
    # counts: a `limits` storage URI (redis://…) or, empty, the database; either way shared
    # by every process
    rate_limit_storage_url: str = field(default="", repr=False)

    @property
    def admin_closed_reason(self) -> str | None:
        """Why the console and the admin API are closed, or None when they are open."""
        if not self.admin_token:
            return "ADMIN_TOKEN is not set"
        if len(self.admin_token) < ADMIN_TOKEN_MIN_LENGTH:
            return (
                f"ADMIN_TOKEN is {len(self.admin_token)} characters; it needs at least "
                f"{ADMIN_TOKEN_MIN_LENGTH} (make one with `integrator keys new`)"
            )
        return None

    @property
    def is_https(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def shopify_secrets(self) -> tuple[str, ...]:
        """Secrets that verify Shopify webhooks: the current one, then the old during rotation."""
        return tuple(s for s in (self.shopify_client_secret, self.shopify_old_client_secret) if s)

    @property
    def webhook_max_age(self) -> timedelta:
        return timedelta(hours=self.webhook_max_age_hours)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _positive_int(name: str, raw: str, problems: list[str]) -> int:
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{name}: {raw!r} is not an integer")
        return 0
    if value <= 0:
        problems.append(f"{name}: must be positive, got {value}")
    return value


def _non_negative_int(name: str, raw: str, problems: list[str]) -> int:
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{name}: {raw!r} is not an integer")
        return 0
    if value < 0:
        problems.append(f"{name}: must be 0 or more, got {value}")
        return 0
    return value


def _boolean(name: str, raw: str, problems: list[str]) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    problems.append(f"{name}: {raw!r} is not a boolean (true/false)")
    return False


def _encryption_keys(raw: str, problems: list[str]) -> tuple[str, ...]:
    from cryptography.fernet import Fernet

    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    for index, key in enumerate(keys):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            problems.append(
                f"ENCRYPTION_KEY: key #{index + 1} is not a Fernet key "
                "(32 url-safe base64-encoded bytes; make one with `integrator keys new`)"
            )
    return keys


def read_environment(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> dict[str, str]:
    """Merge ``.env`` (if present) under the real environment, which wins."""
    merged: dict[str, str] = {}
    path = env_file if env_file is not None else Path(".env")
    if path.is_file():
        merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    return merged


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Build Settings from the environment, reporting every problem at once.

    :raises SettingsError: when any variable is invalid.
    """
    env = read_environment(environ, env_file) if environ is None else dict(environ)
    problems: list[str] = []
    shop = env.get("SHOPIFY_SHOP", "").strip()
    if shop and not SHOP_DOMAIN.match(shop):
        problems.append(f"SHOPIFY_SHOP: {shop!r} is not a shop domain like name.myshopify.com")
    version = env.get("SHOPIFY_API_VERSION", "2026-04").strip()
    if not API_VERSION.match(version):
        problems.append(f"SHOPIFY_API_VERSION: {version!r} is not like 2026-04")
    database_url = env.get("DATABASE_URL", "sqlite:///integrator.db").strip()
    if "://" not in database_url:
        problems.append(f"DATABASE_URL: {database_url!r} is not a SQLAlchemy URL")
    if shop and not env.get("SHOPIFY_CLIENT_SECRET") and not env.get("SHOPIFY_ADMIN_TOKEN"):
        problems.append("SHOPIFY_CLIENT_SECRET: required when SHOPIFY_SHOP is set")
    if env.get("SHOPIFY_CLIENT_SECRET") and not env.get("SHOPIFY_CLIENT_ID"):
        problems.append("SHOPIFY_CLIENT_ID: required with SHOPIFY_CLIENT_SECRET (the app's id)")
    admin_url = env.get("SHOPIFY_ADMIN_URL", "").strip().rstrip("/")
    if admin_url and not admin_url.startswith(("http://", "https://")):
        problems.append(f"SHOPIFY_ADMIN_URL: {admin_url!r} is not an http(s) URL")
    settings = Settings(
        database_url=database_url,
        config_dir=Path(env.get("INTEGRATOR_CONFIG_DIR", "config")),
        shopify_client_id=env.get("SHOPIFY_CLIENT_ID", ""),
        shopify_client_secret=env.get("SHOPIFY_CLIENT_SECRET", ""),
        shopify_old_client_secret=env.get("SHOPIFY_OLD_CLIENT_SECRET", ""),
        shopify_shop=shop,
        shopify_api_version=version,
        shopify_admin_url=admin_url,
        shopify_admin_token=env.get("SHOPIFY_ADMIN_TOKEN", ""),
        encryption_keys=_encryption_keys(env.get("ENCRYPTION_KEY", ""), problems),
        admin_token=env.get("ADMIN_TOKEN", ""),
        webhook_max_bytes=_positive_int(
            "WEBHOOK_MAX_BYTES", env.get("WEBHOOK_MAX_BYTES", "1048576"), problems
        ),
        webhook_max_age_hours=_positive_int(
            "WEBHOOK_MAX_AGE_HOURS", env.get("WEBHOOK_MAX_AGE_HOURS", "48"), problems
        ),
        public_url=env.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
        log_json=_boolean("LOG_JSON", env.get("LOG_JSON", "true"), problems),
        trusted_proxies=_non_negative_int(
            "TRUSTED_PROXIES", env.get("TRUSTED_PROXIES", "0"), problems
        ),
        rate_limit_storage_url=env.get("RATE_LIMIT_STORAGE_URL", "").strip(),
        print_file_resolver=env.get("PRINT_FILE_RESOLVER", "system").strip().lower(),
    )
    if settings.print_file_resolver not in RESOLVERS:
        problems.append(
            f"PRINT_FILE_RESOLVER: {settings.print_file_resolver!r} is not one of "
            + ", ".join(RESOLVERS)
        )
    if problems:
        raise SettingsError(problems)
    return settings
