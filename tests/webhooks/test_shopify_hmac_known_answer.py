"""``POST /webhooks/shopify`` with a signature our code did not compute.

Shopify's published orders/paid example, signed with OpenSSL (see
tests/shopify/test_webhook_hmac_known_answers.py for the command): the receiver stores it and
enqueues its work; one changed character in the signature is a 401 that stores nothing.
"""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from integrator.db.database import Database
from integrator.db.models import Job, WebhookDelivery
from webhooks.app import create_app

from .conftest import SHOP, ContainerFactory, count_deliveries, count_jobs

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures/shopify/orders_paid.json"
SECRET = "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"  # noqa: S105 - a test app's secret
OPENSSL_DIGEST = "JoYkjBgCIRMzF4EocCYIx6T8kjqnb6UP4RniMIYeKUA="
WEBHOOK_ID = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


def client_for(db: Database, make_container: ContainerFactory) -> FlaskClient:
    container = make_container(db, SHOPIFY_CLIENT_SECRET=SECRET, SHOPIFY_OLD_CLIENT_SECRET="")
    return create_app(container.settings, container=container).test_client()


def post(client: FlaskClient, signature: str) -> int:
    answer = client.post(
        "/webhooks/shopify",
        data=SAMPLE.read_bytes(),
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/paid",
            "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Webhook-Id": WEBHOOK_ID,
            "X-Shopify-API-Version": "2026-04",
        },
    )
    return answer.status_code


def test_shopifys_example_signed_by_openssl_is_stored(
    db: Database, make_container: ContainerFactory
) -> None:
    assert post(client_for(db, make_container), OPENSSL_DIGEST) == 200

    with db.read() as session:
        (delivery,) = session.scalars(select(WebhookDelivery)).all()
        kinds = list(session.scalars(select(Job.kind)))
    assert (delivery.source, delivery.topic, delivery.shop_domain, delivery.body) == (
        "shopify",
        "orders/paid",
        SHOP,
        SAMPLE.read_bytes(),
    )
    assert kinds == ["shopify.delivery"]


def test_one_changed_character_of_the_digest_is_refused(
    db: Database, make_container: ContainerFactory
) -> None:
    forged = OPENSSL_DIGEST.replace("J", "K", 1)

    assert post(client_for(db, make_container), forged) == 401

    assert (count_deliveries(db), count_jobs(db)) == (0, 0)
