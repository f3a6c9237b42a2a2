"""The verify-only endpoint bench/ingest.py measures beside the real receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from integrator.bootstrap import bootstrap
from integrator.db.database import Database
from integrator.db.models import Job, WebhookDelivery
from integrator.settings import load_settings
from tests.credentials import ENCRYPTION_KEY
from tests.shopify_signatures import shopify_signature
from webhooks.app import create_app
from webhooks.bench_baseline import BASELINE_PATH

SECRET = "bench-secret"
CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
BODY = b'{"id": 1, "line_items": []}'


def build_app(db: Database, database_url: str) -> Flask:
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "SHOPIFY_CLIENT_ID": "bench-client-id",
            "SHOPIFY_CLIENT_SECRET": SECRET,
            "SHOPIFY_SHOP": "bench.myshopify.com",
            "INTEGRATOR_CONFIG_DIR": str(CONFIG_DIR),
            "ENCRYPTION_KEY": ENCRYPTION_KEY,
        }
    )
    return create_app(container=bootstrap(settings, db=db))


@pytest.fixture
def baseline_app(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    monkeypatch.setenv("INTEGRATOR_BENCH_BASELINE", "1")
    yield build_app(db, database_url)


def stored_rows(db: Database) -> tuple[int, int]:
    with db.read() as session:
        deliveries = session.scalar(select(func.count()).select_from(WebhookDelivery))
        jobs = session.scalar(select(func.count()).select_from(Job))
    return int(deliveries or 0), int(jobs or 0)


def test_not_registered_without_the_variable(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INTEGRATOR_BENCH_BASELINE", raising=False)
    app = build_app(db, database_url)
    response = app.test_client().post(
        BASELINE_PATH, data=BODY, headers={"X-Shopify-Hmac-Sha256": shopify_signature(BODY, SECRET)}
    )
    assert response.status_code == 404
    assert BASELINE_PATH not in {rule.rule for rule in app.url_map.iter_rules()}


def test_signed_body_is_answered_200_and_nothing_is_stored(
    baseline_app: Flask, db: Database
) -> None:
    response = baseline_app.test_client().post(
        BASELINE_PATH, data=BODY, headers={"X-Shopify-Hmac-Sha256": shopify_signature(BODY, SECRET)}
    )
    assert response.status_code == 200
    assert stored_rows(db) == (0, 0)


def test_bad_signature_is_refused(baseline_app: Flask, db: Database) -> None:
    response = baseline_app.test_client().post(
        BASELINE_PATH,
        data=BODY,
        headers={"X-Shopify-Hmac-Sha256": shopify_signature(BODY, "other")},
    )
    assert response.status_code == 401
    assert stored_rows(db) == (0, 0)
