"""Request validation for sandbox suppliers: every request body is checked against the
supplier's published schema before a handler sees it, and refused in the supplier's own words.

A sandbox declares, per endpoint (the handler name of its ``rules()``), where the schema of
that request comes from, and how its API answers a body it refuses::

    class PrintfulSandbox(SandboxSupplier):
        REQUEST_SCHEMAS = {
            # the operation's requestBody in the vendored OpenAPI document (+ documented
            # constraints the document leaves out, in a small overlay schema of our own)
            "create_order": openapi_request(
                "printful_v1_openapi.json.gz", "/orders", "post",
                overlay="printful_v1_order.overlay.schema.json",
            ),
        }

        def invalid_request(self, problems):     # Printful's 400 envelope
            return self.fail(400, "; ".join(map(str, problems)))

    class ProdigiSandbox(SandboxSupplier):
        # no OpenAPI published: a JSON Schema written from the reference text, citing it
        REQUEST_SCHEMAS = {"create_order": json_schema_request("prodigi_create_order.schema.json")}

Schema files live in ``integrator/sandbox/suppliers/schemas/`` (see its README for sources and
checksums); ``.json.gz`` files are read compressed. OpenAPI 3.0 schemas are checked with
``openapi-schema-validator``'s write validator (``nullable``, ``readOnly`` and OpenAPI formats
as the OpenAPI specification defines them); our own schemas are JSON Schema 2020-12 checked by
``jsonschema``. Both know the format ``iso3166-alpha2`` (an assigned ISO 3166-1 alpha-2 code,
upper case, from ``pycountry``), which is how unknown country codes are refused.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

import pycountry
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS30WriteValidator,
    oas30_format_checker,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMA_PACKAGE = "integrator.sandbox.suppliers.schemas"
REQUIRED_MESSAGE = re.compile(r"^'(.+)' is a required property$")
COUNTRY_FORMAT = "iso3166-alpha2"
JSON_CONTENT = "application/json"


@functools.cache
def country_codes() -> frozenset[str]:
    """Every officially assigned ISO 3166-1 alpha-2 code."""
    return frozenset(country.alpha_2 for country in pycountry.countries)


def is_country_code(value: object) -> bool:
    # non-strings are the "type" keyword's business, as JSON Schema formats prescribe
    return not isinstance(value, str) or value in country_codes()


def _with_country_format(checker: FormatChecker) -> FormatChecker:
    checker.checks(COUNTRY_FORMAT)(is_country_code)
    return checker


def format_checker() -> FormatChecker:
    """JSON Schema's formats plus ``iso3166-alpha2``."""
    return _with_country_format(FormatChecker())


def openapi_format_checker() -> FormatChecker:
    """OpenAPI 3.0's formats plus ``iso3166-alpha2``."""
    checker = FormatChecker()
    for name, func in oas30_format_checker.checkers.items():
        checker.checkers[name] = func
    return _with_country_format(checker)


@dataclass(frozen=True, order=True)
class Problem:
    """One reason a body was refused: where (``items[0].quantity``; empty for the whole
    body) and what is wrong, in the validator's words."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class RequestSchema(Protocol):
    """What a sandbox endpoint validates its JSON body with."""

    def problems(self, body: Any) -> list[Problem]:
        """Every problem found, sorted; empty when the body is valid."""


def load_document(name: str) -> Any:
    """A schema or OpenAPI document from the package's ``schemas`` folder (cached)."""
    return _load(name)


@functools.cache
def _load(name: str) -> Any:
    raw = resources.files(SCHEMA_PACKAGE).joinpath(name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return json.loads(raw)


def location(path: Iterable[Any]) -> str:
    """``["items", 0, "quantity"]`` → ``items[0].quantity``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _problems(validator: Validator, body: Any) -> list[Problem]:
    found: set[Problem] = set()
    for error in validator.iter_errors(body):
        found.update(_leaf_problems(error))
    return sorted(found)


def _leaf_problems(error: ValidationError) -> Iterable[Problem]:
    """The most specific error: for ``oneOf``/``anyOf`` the best-matching branch says which
    field is wrong, where the parent only says "is not valid under any of the given schemas"."""
    if error.context:
        error = best_match(error.context) or error
    path = list(error.absolute_path)
    if error.validator == "required":
        # "'city' is a required property" at "recipient" → "recipient: city is required"
        found = REQUIRED_MESSAGE.match(error.message)
        if found:
            yield Problem(location(path), f"{found.group(1)} is required")
            return
    if error.validator == "minLength" and error.instance == "" and path:
        yield Problem(location(path[:-1]), f"{path[-1]} is required")
        return
    yield Problem(location(path), error.message)


class JsonSchemaRequest:
    """A body must satisfy every one of ``validators`` (a published schema and its overlay)."""

    def __init__(self, validators: Sequence[Validator]) -> None:
        self.validators = tuple(validators)

    def problems(self, body: Any) -> list[Problem]:
        found: set[Problem] = set()
        for validator in self.validators:
            found.update(_problems(validator, body))
        return sorted(found)


class LazyRequest:
    """Builds its schema on first use, so importing a sandbox does not parse a 600 KB spec."""

    def __init__(self, build: functools.partial[JsonSchemaRequest], description: str) -> None:
        self._build = build
        self.description = description

    @functools.cached_property
    def schema(self) -> JsonSchemaRequest:
        return self._build()

    def problems(self, body: Any) -> list[Problem]:
        return self.schema.problems(body)

    def __repr__(self) -> str:
        return f"<request schema {self.description}>"


def json_schema_validator(name: str) -> Validator:
    """A validator for one of our JSON Schema files (2020-12)."""
    schema = load_document(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=format_checker())


def _pointer_escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def body_schema_pointer(document: Mapping[str, Any], pointer: str) -> str:
    """JSON pointer of the JSON schema of the requestBody or response object at ``pointer``,
    following ``$ref``s (to ``components.requestBodies`` / ``components.responses``)."""
    node = _resolve(document, "#" + pointer)
    while "$ref" in node:
        pointer = str(node["$ref"])[1:]
        node = _resolve(document, str(node["$ref"]))
    if JSON_CONTENT not in node.get("content", {}):
        raise LookupError(f"{pointer} has no {JSON_CONTENT} body")
    return f"{pointer}/content/{_pointer_escape(JSON_CONTENT)}/schema"


def request_body_pointer(document: Mapping[str, Any], path: str, method: str) -> str:
    """JSON pointer of the JSON schema of an operation's request body."""
    if "requestBody" not in document.get("paths", {}).get(path, {}).get(method.lower(), {}):
        raise LookupError(f"{method.upper()} {path} has no requestBody in the document")
    return body_schema_pointer(
        document, f"/paths/{_pointer_escape(path)}/{method.lower()}/requestBody"
    )


def response_pointer(document: Mapping[str, Any], path: str, method: str, status: int) -> str:
    """JSON pointer of the JSON schema of one documented answer of an operation."""
    responses = document.get("paths", {}).get(path, {}).get(method.lower(), {}).get("responses")
    if str(status) not in (responses or {}):
        raise LookupError(f"{method.upper()} {path} documents no {status} answer")
    return body_schema_pointer(
        document, f"/paths/{_pointer_escape(path)}/{method.lower()}/responses/{status}"
    )


def _resolve(document: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise LookupError(f"external $ref {ref!r} is not supported")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _oas30(document_name: str, pointer: str, validator: Any) -> Validator:
    document = load_document(document_name)
    uri = f"urn:integrator:sandbox:{document_name}"
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(document, default_specification=DRAFT4)
    )
    return validator(  # type: ignore[no-any-return]
        {"$ref": f"{uri}#{pointer}"},
        registry=registry,
        format_checker=openapi_format_checker(),
    )


def openapi_validator(document_name: str, path: str, method: str) -> Validator:
    """An OpenAPI 3.0 write validator for one operation's request body; ``$ref``s resolve
    inside the (vendored, unmodified) document."""
    pointer = request_body_pointer(load_document(document_name), path, method)
    return _oas30(document_name, pointer, OAS30WriteValidator)


def openapi_response(document_name: str, path: str, method: str, status: int = 200) -> LazyRequest:
    """The schema of one documented answer (OpenAPI 3.0 read semantics), to check that a
    sandbox answers with the published shape (tests)."""

    def build() -> JsonSchemaRequest:
        pointer = response_pointer(load_document(document_name), path, method, status)
        return JsonSchemaRequest([_oas30(document_name, pointer, OAS30ReadValidator)])

    return LazyRequest(
        functools.partial(build), f"{method.upper()} {path} {status} in {document_name}"
    )


def openapi_webhook(document_name: str, event: str) -> LazyRequest:
    """The schema of a webhook payload the document publishes under ``x-webhooks`` (what a
    sandbox posts must have that shape; read semantics)."""

    def build() -> JsonSchemaRequest:
        pointer = body_schema_pointer(
            load_document(document_name), f"/x-webhooks/{_pointer_escape(event)}/post/requestBody"
        )
        return JsonSchemaRequest([_oas30(document_name, pointer, OAS30ReadValidator)])

    return LazyRequest(functools.partial(build), f"x-webhooks {event} in {document_name}")


def _build_openapi(
    document_name: str, path: str, method: str, overlay: str | None
) -> JsonSchemaRequest:
    validators = [openapi_validator(document_name, path, method)]
    if overlay:
        validators.append(json_schema_validator(overlay))
    return JsonSchemaRequest(validators)


def _build_json_schema(name: str) -> JsonSchemaRequest:
    return JsonSchemaRequest([json_schema_validator(name)])


def openapi_request(
    document_name: str, path: str, method: str, *, overlay: str | None = None
) -> LazyRequest:
    """The request body schema of ``method path`` in a vendored OpenAPI 3.0 document.

    ``overlay`` names a JSON Schema of ours holding constraints the supplier documents in
    prose but the document does not state (ISO country codes, "limited to 1000"); each of its
    keywords cites where it comes from (``$comment``)."""
    return LazyRequest(
        functools.partial(_build_openapi, document_name, path, method, overlay),
        f"{method.upper()} {path} in {document_name}" + (f" + {overlay}" if overlay else ""),
    )


def json_schema_request(name: str) -> LazyRequest:
    """A JSON Schema (2020-12) of ours, written from a supplier's reference text."""
    return LazyRequest(functools.partial(_build_json_schema, name), name)
