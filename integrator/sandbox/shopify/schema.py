"""The Admin API schema the sandbox validates and executes against, and a document cache."""

from __future__ import annotations

import functools
import gzip
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from graphql import DocumentNode, GraphQLError, GraphQLSchema, build_client_schema, parse, validate

# The project's copy of Shopify's introspection result (kept by the Shopify client's owners).
SCHEMA_PATH = (
    Path(__file__).resolve().parents[2] / "shopify" / "schema" / "admin_2026-04.schema.json.gz"
)


_built: dict[Path, GraphQLSchema] = {}
# Serving threads must not build the schema side by side: besides the wasted work, graphql-core's
# cached properties serialise on one lock and stall every thread for seconds.
_building = threading.Lock()


def admin_schema(path: Path = SCHEMA_PATH) -> GraphQLSchema:
    """Return the Admin API schema, built once per process (it takes about half a second)."""
    schema = _built.get(path)
    if schema is None:
        with _building:
            schema = _built.get(path) or _build(path)
            _built[path] = schema
    return schema


def _build(path: Path) -> GraphQLSchema:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        introspection = json.load(stream)
    return build_client_schema(introspection.get("data", introspection), assume_valid=True)


@dataclass(frozen=True)
class CheckedDocument:
    document: DocumentNode | None
    errors: tuple[GraphQLError, ...] = ()


@functools.lru_cache(maxsize=1024)
def check_document(schema: GraphQLSchema, query: str) -> CheckedDocument:
    """Parse and validate ``query``; clients send the same few documents, so cache them."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return CheckedDocument(None, (error,))
    errors = validate(schema, document)
    return CheckedDocument(None if errors else document, tuple(errors))
