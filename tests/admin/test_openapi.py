"""docs/openapi.yaml is valid OpenAPI 3.0, covers every admin API route, and the API keeps to it
under schemathesis (generated requests, in-process, a few examples per operation)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from flask import Flask
from hypothesis import HealthCheck, given, settings
from limits import parse
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import negative_data_rejection

from integrator.bootstrap import Container
from tests.admin.conftest import api_headers, make_app, seed
from webhooks.admin.access import EXTENSION

EXAMPLES_PER_OPERATION = int(os.environ.get("ADMIN_API_EXAMPLES", "6"))
SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def _spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    return loaded


def test_spec_is_valid_openapi_with_the_bearer_token_required() -> None:
    spec = _spec()
    validate(spec)
    assert spec["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    assert spec["security"] == [{"adminToken": []}]


def test_spec_documents_every_admin_api_route(app: Flask) -> None:
    routes = {
        (rule.rule.replace("<int(max=9223372036854775807):", "{").replace(">", "}"), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.api.")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method) for path, operations in _spec()["paths"].items() for method in operations
    }
    assert routes == documented


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api_keeps_to_its_spec(container: Container, mode: str) -> None:
    """Every documented operation, a few generated requests each: never a 5xx, and every
    answer matches its documented status, content type and schema."""
    seed(container.db)
    schema = schemathesis.openapi.from_path(SPEC)
    app = make_app(container)
    # schemathesis probes every operation with wrong credentials and expects 401; the shared
    # throttle answers 429 after ten (as it should: tests/security/test_admin_sessions.py),
    # which depends on how many probes one window holds, not on the spec
    app.extensions[EXTENSION].throttle.limit = parse("10000/minute")
    schema.app = app
    generation_mode = schemathesis.GenerationMode(mode)
    operations = [result.ok() for result in schema.get_all_operations()]
    # unknown query parameters are ignored on purpose (tolerant reader), which schemathesis
    # counts as "accepted invalid data"; a 5xx or an answer outside the documented statuses,
    # content types and schemas still fails the run
    excluded = [negative_data_rejection] if mode == "negative" else []
    assert len(operations) == 10

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=generation_mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_to_spec(case: Any) -> None:
            case.call_and_validate(headers=api_headers(), excluded_checks=excluded)

        keeps_to_spec()
