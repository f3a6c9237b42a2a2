"""Fixtures for the console and admin API: a real app on a migrated database with seeded rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from integrator.bootstrap import Container, bootstrap
from integrator.db.database import Database
from integrator.db.models import (
    Alert,
    ItemEvent,
    Job,
    LineItem,
    Order,
    Shipment,
    SupplierOrder,
    WebhookDelivery,
)
from integrator.db.timestamps import utcnow
from integrator.settings import load_settings
from tests.credentials import ENCRYPTION_KEY
from webhooks.app import create_app

TOKEN = "test-admin-token-0123456789-abcdefghij"  # 32 characters or more
CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SHOP = "acme.myshopify.com"
# the keys integrator.pipeline.decisions.apply_decision gives routing events
ROUTING_DEDUPE_KEYS = {"routed": "routed", "on_hold": "routing-hold"}


@dataclass(frozen=True)
class Seeded:
    held_order: int
    held_item: int
    failed_item: int
    shipped_order: int
    shipped_item: int
    dead_job: int
    queued_job: int


def make_container(db: Database, database_url: str, admin_token: str = TOKEN) -> Container:
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "ADMIN_TOKEN": admin_token,
            "INTEGRATOR_CONFIG_DIR": str(CONFIG_DIR),
            "ENCRYPTION_KEY": ENCRYPTION_KEY,
        }
    )
    return bootstrap(settings, db=db, load_config=True)


def make_app(container: Container) -> Flask:
    app = create_app(container=container)
    app.testing = True
    return app


@pytest.fixture
def container(db: Database, database_url: str) -> Container:
    return make_container(db, database_url)


@pytest.fixture
def app(container: Container) -> Flask:
    return make_app(container)


def _event(
    item: LineItem, stage: str, previous: str | None, at: datetime, source: str
) -> ItemEvent:
    return ItemEvent(
        line_item=item,
        stage=stage,
        previous_stage=previous,
        source=source,
        dedupe_key=ROUTING_DEDUPE_KEYS.get(stage, f"seed-{stage}") if source == "routing" else None,
        occurred_at=at,
        recorded_at=at,
    )


def seed(db: Database) -> Seeded:
    """A held order (one held tee, one failed mug), a shipped order, jobs and a stuck alert."""
    now = utcnow()
    with db.write() as session:
        held_order = Order(
            shop_domain=SHOP,
            shopify_order_id="5001",
            name="#1001",
            email="customer@example.com",
            shipping_address={"address1": "1 Secret Lane", "country_code": "DE"},
            financial_status="paid",
            production_stage="on_hold",
            paid_at=now - timedelta(hours=5),
            created_at=now - timedelta(hours=5),
        )
        held = LineItem(
            order=held_order,
            shopify_line_item_id="7001",
            title="Logo tee, black, M <script>alert(1)</script>",
            sku="TEE-BLK-M-DTG",
            product_type="T-Shirt",
            stage="on_hold",
            reached_stage="received",
            stage_changed_at=now - timedelta(hours=4),
            disposition="hold",
            decoration="dtg",
            decoration_source="sku_suffix",
            reason="no rule matched",
        )
        failed = LineItem(
            order=held_order,
            shopify_line_item_id="7002",
            title="Mug",
            sku="MUG-11OZ",
            product_type="Mug",
            stage="failed",
            reached_stage="routed",
            stage_changed_at=now - timedelta(hours=3),
            disposition="route",
            supplier="printful",
            rule="mugs",
            reason="supplier rejected the file",
        )
        session.add_all([held_order, held, failed])
        session.flush()
        session.add_all(
            [
                _event(held, "received", None, now - timedelta(hours=5), "routing"),
                _event(held, "on_hold", "received", now - timedelta(hours=4), "routing"),
                _event(failed, "routed", "received", now - timedelta(hours=5), "routing"),
                _event(failed, "failed", "routed", now - timedelta(hours=3), "supplier:printful"),
            ]
        )
        session.add(
            WebhookDelivery(
                source="shopify",
                topic="orders/paid",
                shop_domain=SHOP,
                dedupe_key="d-1",
                body=b'{"email": "customer@example.com"}',
                body_sha256="ab" * 32,
                body_size=33,
                outcome="processed",
                order_id=held_order.id,
                received_at=now - timedelta(hours=5),
            )
        )
        shipped_order = Order(
            shop_domain=SHOP,
            shopify_order_id="5002",
            name="#1002",
            financial_status="paid",
            production_stage="shipped",
            paid_at=now - timedelta(days=3),
            created_at=now - timedelta(days=3),
        )
        supplier_order = SupplierOrder(
            order=shipped_order,
            supplier="printify",
            external_ref="acme-5002-printify",
            supplier_order_id="PFY-998",
            status="shipped",
        )
        session.add_all([shipped_order, supplier_order])
        session.flush()
        shipped = LineItem(
            order=shipped_order,
            shopify_line_item_id="7003",
            title="Poster",
            sku="POSTER-A3",
            product_type="Poster",
            stage="shipped",
            reached_stage="shipped",
            disposition="route",
            supplier="printify",
            rule="wall art",
            decoration="none",
            decoration_source="product_type_default",
            supplier_order_id=supplier_order.id,
        )
        session.add(shipped)
        session.flush()
        for index, (stage, hours_ago) in enumerate(
            [("routed", 72), ("submitted", 71), ("in_production", 60), ("shipped", 24)]
        ):
            session.add(
                ItemEvent(
                    line_item=shipped,
                    stage=stage,
                    source="supplier:printify",
                    dedupe_key=f"seed-{index}",
                    occurred_at=now - timedelta(hours=hours_ago),
                )
            )
        session.add_all(
            [
                Shipment(
                    order_id=shipped_order.id,
                    supplier_order_id=supplier_order.id,
                    supplier="printify",
                    supplier_shipment_id="S-1",
                    carrier="DHL",
                    tracking_number="TRK123",
                    tracking_url="https://track.example.com/TRK123",
                    shopify_fulfillment_id="gid://shopify/Fulfillment/42",
                    sync_status="synced",
                    shipped_at=now - timedelta(hours=24),
                ),
                Shipment(
                    order_id=shipped_order.id,
                    supplier_order_id=supplier_order.id,
                    supplier="printify",
                    supplier_shipment_id="S-2",
                    tracking_number="TRK-JS",
                    tracking_url="javascript:alert(1)",
                ),
            ]
        )
        dead = Job(kind="supplier.submit", status="dead", attempts=10, last_error="HTTP 500")
        queued = Job(kind="shopify.mirror", status="queued")
        session.add_all([dead, queued])
        session.flush()
        session.add(
            Alert(
                kind="stuck_item",
                subject=f"line_item:{shipped.id}:shipped",
                line_item_id=shipped.id,
                order_id=shipped_order.id,
                message="shipped 24 h ago and not delivered",
            )
        )
        return Seeded(
            held_order.id, held.id, failed.id, shipped_order.id, shipped.id, dead.id, queued.id
        )


@pytest.fixture
def seeded(db: Database) -> Seeded:
    return seed(db)


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def signed_in(app: Flask) -> tuple[FlaskClient, str]:
    """A test client with a signed-in session, and that session's CSRF token."""
    client = app.test_client()
    page = client.get("/admin/sign-in").get_data(as_text=True)
    response = client.post("/admin/sign-in", data={"token": TOKEN, "csrf_token": csrf_from(page)})
    assert response.status_code == 302, response.get_data(as_text=True)
    orders = client.get("/admin/orders")
    assert orders.status_code == 200
    return client, csrf_from(orders.get_data(as_text=True))


@pytest.fixture
def console(app: Flask) -> Iterator[tuple[FlaskClient, str]]:
    yield signed_in(app)


def api_headers(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
