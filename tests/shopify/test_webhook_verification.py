"""Webhook HMAC over the raw bytes (our own, constant time): current and old secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrator.shopify.webhook_verification import HMAC_HEADER, verify_webhook
from tests.shopify_signatures import shopify_signature

SAMPLES = Path(__file__).parents[1] / "fixtures/shopify"
CURRENT, OLD = "current-secret", "old-secret"


def headers(signature: str) -> dict[str, str]:
    return {
        HMAC_HEADER: signature,
        "X-Shopify-Topic": "orders/paid",
        "X-Shopify-Shop-Domain": "demo.myshopify.com",
    }


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("*.json")))
def test_real_sample_payloads_verify_with_the_current_secret(sample: str) -> None:
    body = (SAMPLES / sample).read_bytes()
    assert verify_webhook(body, headers(shopify_signature(body, CURRENT)), [CURRENT, OLD])


def test_old_secret_is_accepted_during_rotation() -> None:
    body = b'{"id":1,"admin_graphql_api_id":"gid:\\/\\/shopify\\/Order\\/1"}'
    assert verify_webhook(body, headers(shopify_signature(body, OLD)), [CURRENT, OLD])
    assert not verify_webhook(body, headers(shopify_signature(body, OLD)), [CURRENT])


def test_any_of_several_secrets() -> None:
    body = b'{"id":1}'
    assert verify_webhook(body, headers(shopify_signature(body, "third")), [CURRENT, OLD, "third"])


def test_wrong_secret_missing_header_and_tampering_are_refused() -> None:
    body = (SAMPLES / "orders_paid.json").read_bytes()
    signature = shopify_signature(body, CURRENT)
    assert not verify_webhook(body, headers(shopify_signature(body, "attacker")), [CURRENT, OLD])
    assert not verify_webhook(body, {"X-Shopify-Topic": "orders/paid"}, [CURRENT])
    assert not verify_webhook(body + b" ", headers(signature), [CURRENT])
    assert not verify_webhook(body, headers(signature), [])


def test_reserialised_json_no_longer_verifies() -> None:
    body = b'{"url":"https:\\/\\/example.com\\/a"}'
    signature = shopify_signature(body, CURRENT)
    reserialised = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert verify_webhook(body, headers(signature), [CURRENT])
    assert not verify_webhook(reserialised, headers(signature), [CURRENT])


def test_header_names_are_case_insensitive_and_non_utf8_is_checked_on_the_bytes() -> None:
    body = b'{"id":1}'
    lower = {HMAC_HEADER.lower(): shopify_signature(body, CURRENT)}
    assert verify_webhook(body, lower, [CURRENT])
    # correctly signed bytes that are not UTF-8 verify (the JSON check answers 400 for them)
    assert verify_webhook(
        b"\xff\xfe", {HMAC_HEADER: shopify_signature(b"\xff\xfe", CURRENT)}, [CURRENT]
    )
    assert not verify_webhook(
        b"\xff\xfe", {HMAC_HEADER: shopify_signature(b"\xff\xfd", CURRENT)}, [CURRENT]
    )
    assert not verify_webhook(body, {HMAC_HEADER: "signé"}, [CURRENT])
