from __future__ import annotations

from pathlib import Path

import pytest

from bench.chaos.common import start_stack
from bench.chaos.hostile_input import fuzz_config, fuzz_webhooks
from integrator.store_config.loading import load_store_config
from integrator.store_config.problems import ConfigError


def test_webhook_endpoints_refuse_hostile_requests_without_5xx_or_storing(
    database_url: str,
) -> None:
    stack = start_stack(database_url)
    try:
        tally = fuzz_webhooks(stack, 60)
    finally:
        stack.close()

    assert tally.violations == []
    assert tally.requests == 120
    assert not any(status >= 500 and status != 503 for status in tally.answers)


def test_config_loader_answers_hostile_documents_with_config_errors_only() -> None:
    tally = fuzz_config(60)

    assert dict(tally.crashes) == {}
    assert tally.refused > 0


# regression (found by the fuzz): a NUL in routing.yaml escaped as yaml ReaderError
def test_a_nul_character_in_routing_yaml_is_a_config_problem(tmp_path: Path) -> None:
    source = Path("config")
    (tmp_path / "routing.yaml").write_text((source / "routing.yaml").read_text() + "\x00")
    (tmp_path / "catalog.yaml").write_text((source / "catalog.yaml").read_text())

    with pytest.raises(ConfigError):
        load_store_config(tmp_path, {})


# regression (found by the fuzz): a non-ASCII HMAC header made shopify_app raise → 500
def test_a_non_ascii_signature_header_is_a_bad_signature(database_url: str) -> None:
    stack = start_stack(database_url)
    try:
        answer = stack.app.test_client().post(
            "/webhooks/shopify",
            data=b"{}",
            headers={
                "X-Shopify-Topic": "orders/paid",
                "X-Shopify-Hmac-Sha256": "\u00e9t\u00e9",
                "X-Shopify-Shop-Domain": stack.options.shop,
                "X-Shopify-Webhook-Id": "fuzz-1",
            },
        )
    finally:
        stack.close()

    assert answer.status_code == 401
