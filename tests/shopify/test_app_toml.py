"""shopify.app.toml declares what the code needs: the scopes and the webhook topics."""

from __future__ import annotations

import tomllib
from pathlib import Path

from integrator.shopify.client import DEFAULT_API_VERSION
from integrator.shopify.setup import DEFAULT_TOPICS, REQUIRED_SCOPES

TOML = Path(__file__).parents[2] / "shopify.app.toml"


def test_scopes_are_the_required_ones() -> None:
    config = tomllib.loads(TOML.read_text())
    assert tuple(config["access_scopes"]["scopes"].split(",")) == REQUIRED_SCOPES


def test_topics_and_compliance_topics_go_to_the_receiver() -> None:
    config = tomllib.loads(TOML.read_text())
    subscriptions = config["webhooks"]["subscriptions"]
    topics = {t for s in subscriptions for t in s.get("topics", [])}
    compliance = {t for s in subscriptions for t in s.get("compliance_topics", [])}
    assert topics == set(DEFAULT_TOPICS)
    assert compliance == {"customers/data_request", "customers/redact", "shop/redact"}
    assert {s["uri"] for s in subscriptions} == {"/webhooks/shopify"}
    assert config["webhooks"]["api_version"] == DEFAULT_API_VERSION
