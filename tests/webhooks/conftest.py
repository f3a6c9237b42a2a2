"""A real app on a migrated database, plus row counts to prove what a request stored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from integrator.bootstrap import Container, bootstrap
from integrator.db.database import Database
from integrator.db.models import Job, WebhookDelivery
from integrator.settings import load_settings
from tests.credentials import ENCRYPTION_KEY
from webhooks.app import create_app

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
SECRET = "test-client-secret"  # noqa: S105 - a test app's secret
OLD_SECRET = "test-old-client-secret"  # noqa: S105
SHOP = "acme.myshopify.com"
MAX_BYTES = 64 * 1024

ContainerFactory = Callable[..., Container]


def settings_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "INTEGRATOR_CONFIG_DIR": str(CONFIG_DIR),
        "ADMIN_TOKEN": "test-admin-token-0123456789-abcdefghij",
        "ENCRYPTION_KEY": ENCRYPTION_KEY,
        "SHOPIFY_SHOP": SHOP,
        "SHOPIFY_CLIENT_ID": "test-client-id",
        "SHOPIFY_CLIENT_SECRET": SECRET,
        "SHOPIFY_OLD_CLIENT_SECRET": OLD_SECRET,
        "WEBHOOK_MAX_BYTES": str(MAX_BYTES),
        **extra,
    }


@pytest.fixture
def make_container(database_url: str) -> Iterator[ContainerFactory]:
    made: list[Container] = []

    def make(db: Database, **extra: str) -> Container:
        container = bootstrap(load_settings(settings_env(database_url, **extra)), db=db)
        made.append(container)
        return container

    yield make
    for container in made:
        container.close()


@pytest.fixture
def container(db: Database, make_container: ContainerFactory) -> Container:
    return make_container(db)


@pytest.fixture
def client(container: Container) -> FlaskClient:
    return create_app(container.settings, container=container).test_client()


def count_deliveries(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0)


def count_jobs(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Job)) or 0)
