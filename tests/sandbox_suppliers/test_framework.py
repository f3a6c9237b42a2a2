"""The shared validation framework: vendored documents, schema lookup, problems, countries,
and the rule that sandboxes are built without our adapter code."""

from __future__ import annotations

import ast
import gzip
import hashlib
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from integrator.sandbox.suppliers.validation import (
    SCHEMA_PACKAGE,
    Problem,
    is_country_code,
    json_schema_request,
    load_document,
    openapi_request,
    request_body_pointer,
)

# the sandboxes themselves (stack.py, which wires sandboxes to our app for demos, is not one)
SANDBOX_DIR = Path(__file__).resolve().parents[2] / "integrator" / "sandbox"
SANDBOX_PACKAGES = ("suppliers", "shopify")
# sha256 of the published documents as vendored (schemas/README.md; specs/README.md of the
# shared reference names the same prefixes)
PUBLISHED = {
    "printful_v1_openapi.json.gz": "3a7fab531e50edb7aed337add8f3bc8246488238e624090965817e482907efb2",
    "printful_v2_openapi.json.gz": "044dd1c81c959c726a305d87c51c359e35e3199969ac11e41d159e9ccd41d92d",
    "printify_openapi.json.gz": "153db934b5d11f99721017e385ceb50716607d159909e735534c04c0e6084dd3",
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_vendored_documents_are_the_published_ones_unmodified(name: str) -> None:
    raw = gzip.decompress(resources.files(SCHEMA_PACKAGE).joinpath(name).read_bytes())

    assert hashlib.sha256(raw).hexdigest() == PUBLISHED[name]


def test_our_schema_files_are_valid_json_schema_and_cite_their_source() -> None:
    ours = [p for p in resources.files(SCHEMA_PACKAGE).iterdir() if p.name.endswith(".schema.json")]

    assert {p.name for p in ours} >= {
        "printful_v1_order.overlay.schema.json",
        "prodigi_create_order.schema.json",
        "printify_order.overlay.schema.json",
        "gelato_create_order.schema.json",
        "gelato_patch_order.schema.json",
        "gelato_search_orders.schema.json",
        "gelato_order.schema.json",
        "gelato_webhook.schema.json",
    }
    for path in ours:
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        assert schema["$comment"], path.name


def test_request_body_pointer_follows_request_body_refs() -> None:
    document = load_document("printful_v1_openapi.json.gz")

    assert request_body_pointer(document, "/orders", "post") == (
        "/components/requestBodies/OrderInput/content/application~1json/schema"
    )
    with pytest.raises(LookupError, match="no requestBody"):
        request_body_pointer(document, "/orders/{id}", "get")


def test_openapi_request_reports_every_problem_with_its_path() -> None:
    schema = openapi_request("printful_v1_openapi.json.gz", "/orders", "post")

    problems = schema.problems(
        {"recipient": {"country_code": 7}, "items": [{"quantity": "lots", "files": [{}]}]}
    )

    assert problems == [
        Problem("items[0].files[0]", "url is required"),
        Problem("items[0].quantity", "'lots' is not of type 'integer'"),
        Problem("recipient.country_code", "7 is not of type 'string'"),
    ]
    assert str(problems[0]) == "items[0].files[0]: url is required"
    assert schema.problems({"recipient": {}, "items": []}) == []


def test_openapi_read_only_fields_are_refused_in_requests() -> None:
    schema = openapi_request("printful_v1_openapi.json.gz", "/orders", "post")

    assert schema.problems({"recipient": {}, "items": [], "id": 13}) == [
        Problem("id", "Tried to write read-only property with 13")
    ]


def test_empty_and_missing_required_fields_name_the_field() -> None:
    schema = json_schema_request("prodigi_create_order.schema.json")

    problems = schema.problems(
        {"shippingMethod": "Standard", "recipient": {"name": "", "address": {}}, "items": []}
    )

    assert [str(p) for p in problems] == [
        "items: [] should be non-empty",
        "recipient: name is required",
        "recipient.address: countryCode is required",
        "recipient.address: line1 is required",
        "recipient.address: postalOrZipCode is required",
        "recipient.address: townOrCity is required",
    ]


@pytest.mark.parametrize(
    ("value", "known"),
    [("US", True), ("GB", True), ("DE", True), ("ZZ", False), ("ZZZ", False), ("us", False),
     ("UK", False), ("", False), (840, True)],  # 840: not a string, the type keyword's business
)
def test_country_codes_are_iso_3166_alpha_2(value: object, known: bool) -> None:
    assert is_country_code(value) is known


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_sandboxes_never_import_adapter_code() -> None:
    modules = sorted(p for d in SANDBOX_PACKAGES for p in (SANDBOX_DIR / d).rglob("*.py"))
    assert len(modules) > 10

    offending = {
        str(path.relative_to(SANDBOX_DIR)): name
        for path in modules
        for name in _imports(path)
        if name == "integrator.suppliers" or name.startswith("integrator.suppliers.")
    }

    assert offending == {}


def test_importing_the_sandboxes_loads_no_adapter_module() -> None:
    code = (
        "import sys, integrator.sandbox.suppliers as s\n"
        "for kind in s.SANDBOXES.values(): kind()\n"
        "print(sorted(m for m in sys.modules if m.startswith('integrator.suppliers')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout

    assert out.strip() == "[]"
