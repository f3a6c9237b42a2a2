"""Every GraphQL document the integrator sends validates against Shopify's 2026-04 schema."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_client_schema, parse, validate

from integrator.shopify.operations import load_operation, operation_names

SCHEMA = Path(__file__).parents[2] / "integrator/shopify/schema/admin_2026-04.schema.json.gz"


@cache
def admin_schema() -> GraphQLSchema:
    with gzip.open(SCHEMA) as handle:
        data = json.load(handle)
    # assume_valid: graphql-core refuses Shopify's schema over interface deprecation mismatches
    return build_client_schema(data.get("data", data), assume_valid=True)


def test_the_package_ships_operations() -> None:
    assert {"order_for_routing", "fulfillment_create", "orders_updated_since"} <= set(
        operation_names()
    )


@pytest.mark.parametrize("name", operation_names())
def test_operation_validates_against_the_admin_schema(name: str) -> None:
    errors = validate(admin_schema(), parse(load_operation(name)))
    assert errors == [], [e.message for e in errors]


def test_unknown_operation_is_refused() -> None:
    with pytest.raises(FileNotFoundError):
        load_operation("../secrets")
