"""shopify.app.toml declares what the code needs: the scopes and the webhook topics."""

from __future__ import annotations

import tomllib
from pathlib import Path

from integrator.shopify.client import DEFAULT_API_VERSION
from integrator.shopify.setup import FULFILLMENT_SERVICE_SCOPES, MERCHANT_MANAGED_SCOPES
from integrator.shopify.topics import subscription_topics

TOML = Path(__file__).parents[2] / "shopify.app.toml"


def test_scopes_are_the_default_modes_and_the_other_modes_are_documented() -> None:
    text = TOML.read_text()
    config = tomllib.loads(text)
    assert tuple(config["access_scopes"]["scopes"].split(",")) == FULFILLMENT_SERVICE_SCOPES
    documented = f'# scopes = "{",".join(MERCHANT_MANAGED_SCOPES)}"'
    assert documented in text.splitlines()


def test_topics_and_compliance_topics_go_to_the_receiver() -> None:
    config = tomllib.loads(TOML.read_text())
    subscriptions = config["webhooks"]["subscriptions"]
    topics = {t for s in subscriptions for t in s.get("topics", [])}
    compliance = {t for s in subscriptions for t in s.get("compliance_topics", [])}
    assert topics == set(subscription_topics("fulfillment-service"))
    assert compliance == {"customers/data_request", "customers/redact", "shop/redact"}
    assert {s["uri"] for s in subscriptions} == {"/webhooks/shopify"}
    assert config["webhooks"]["api_version"] == DEFAULT_API_VERSION
