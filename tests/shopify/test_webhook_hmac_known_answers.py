"""Shopify's webhook HMAC against digests our code did not compute.

Shopify signs the raw body with HMAC-SHA256 keyed on the app's client secret and sends the
digest base64-encoded in X-Shopify-Hmac-SHA256 (shopify.dev, "Verify webhooks"). Shopify's docs
publish no body/secret/digest triple, so every expected digest here comes from independent
implementations, pasted as constants:

* OpenSSL, for Shopify's published orders/paid example payload (tests/fixtures/shopify, a
  byte-for-byte copy of reference/shopify/samples/orders_paid.json) and for a non-ASCII body:
  ``openssl dgst -sha256 -hmac "$SECRET" -binary < BODY | base64`` (OpenSSL 3);
* SQLPage's published test of its ``sqlpage.hmac(..., 'sha256-base64')`` ("Test Shopify webhook
  HMAC validation with base64 output"), which OpenSSL reproduces.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from integrator.shopify.webhook_verification import HMAC_HEADER, sign_webhook, verify_webhook
from tests.shopify_signatures import shopify_signature

SAMPLE = Path(__file__).parents[1] / "fixtures/shopify/orders_paid.json"
SAMPLE_SHA256 = "5b0dc16d69ffa5f28ad5e60b80e32a4b093a7eeb60270ed4a88d7cc68f031f9e"
SECRET = "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"

KNOWN_ANSWERS = [
    pytest.param(
        SAMPLE.read_bytes(),
        SECRET,
        "JoYkjBgCIRMzF4EocCYIx6T8kjqnb6UP4RniMIYeKUA=",
        id="shopify-orders-paid-example/openssl",
    ),
    pytest.param(
        '{"note":"Grüße aus Köln ☃","id":1}'.encode(),
        SECRET,
        "1dh6bUXQWu+pJ8DFj3jx+8MOtSD3ob/mk7Sin8sinJo=",
        id="utf8-body/openssl",
    ),
    pytest.param(
        b'{"id":1234567890,"email":"customer@example.com","total_price":"123.45"}',
        "test-webhook-secret",
        "QNyObTlKbMx2qDlPF/ZOZcBqg5OgPg+2oky3zldc0Gw=",
        id="sqlpage-published-vector",
    ),
]


def headers(signature: str) -> dict[str, str]:
    return {
        HMAC_HEADER: signature,
        "X-Shopify-Topic": "orders/paid",
        "X-Shopify-Shop-Domain": "demo.myshopify.com",
    }


def test_the_sample_is_shopifys_example_byte_for_byte() -> None:
    # the digest below is of these exact bytes: a reformatted fixture is a different body
    assert hashlib.sha256(SAMPLE.read_bytes()).hexdigest() == SAMPLE_SHA256


@pytest.mark.parametrize(("body", "secret", "digest"), KNOWN_ANSWERS)
def test_a_delivery_signed_elsewhere_verifies(body: bytes, secret: str, digest: str) -> None:
    assert verify_webhook(body, headers(digest), [secret]) is True
    assert verify_webhook(body, headers(digest), ["old-secret", secret]) is True


@pytest.mark.parametrize(("body", "secret", "digest"), KNOWN_ANSWERS)
def test_our_signer_gives_the_independent_digest(body: bytes, secret: str, digest: str) -> None:
    assert sign_webhook(body, secret) == digest


@pytest.mark.parametrize(("body", "secret", "digest"), KNOWN_ANSWERS)
def test_the_tests_own_recipe_gives_the_independent_digest(
    body: bytes, secret: str, digest: str
) -> None:
    # what the receiver tests sign with (tests/shopify_signatures.py), checked here
    assert shopify_signature(body, secret) == digest


@pytest.mark.parametrize(("body", "secret", "digest"), KNOWN_ANSWERS)
def test_the_known_digest_fails_on_another_body_or_secret(
    body: bytes, secret: str, digest: str
) -> None:
    assert verify_webhook(body + b"\n", headers(digest), [secret]) is False
    assert verify_webhook(body, headers(digest), [secret + "x"]) is False
    # the hex form of the same digest is not what Shopify sends
    hex_digest = base64.b64decode(digest).hex()
    assert verify_webhook(body, headers(hex_digest), [secret]) is False
