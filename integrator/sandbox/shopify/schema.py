"""The Admin API schema the sandbox validates and executes against, and a document cache."""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from graphql import DocumentNode, GraphQLError, GraphQLSchema, build_client_schema, parse, validate

# The project's copy of Shopify's introspection result (kept by the Shopify client's owners).
SCHEMA_PATH = (
    Path(__file__).resolve().parents[2] / "shopify" / "schema" / "admin_2026-04.schema.json.gz"
)


@functools.cache
def admin_schema(path: Path = SCHEMA_PATH) -> GraphQLSchema:
    """Load and build the Admin API schema once per process (it takes about half a second)."""
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
