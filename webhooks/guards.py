"""Checks shared by every webhook view, each on the raw request."""

from __future__ import annotations

import json
from typing import Any

from flask import Request, jsonify
from flask.typing import ResponseReturnValue

# a signed body is parsed within these limits; anything beyond is answered 400 (Shopify's
# order bodies nest about 6 deep and carry 19-digit ids)
MAX_JSON_DEPTH = 64
MAX_NUMBER_CHARS = 64


class TooLarge(Exception):
    pass


class MalformedBody(Exception):
    """The body is not a JSON object within our limits; ``reason`` is a metrics-safe word."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes without reading them all.

    :raises TooLarge: when the declared or the actual length exceeds the limit.
    """
    declared = request.content_length
    if declared is not None and declared > limit:
        raise TooLarge
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise TooLarge
    return body


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise MalformedBody("number_too_long")
    return int(text)


def _bounded_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise MalformedBody("number_too_long")
    return float(text)


def _no_constant(text: str) -> Any:
    raise MalformedBody("malformed_json")  # NaN and Infinity are not JSON


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` containers deep (iterative, no recursion)."""
    level: list[Any] = [value]
    for _ in range(limit):
        level = [
            child
            for parent in level
            for child in (parent.values() if isinstance(parent, dict) else parent)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Parse a (verified) body that must be a JSON object within the limits above.

    :raises MalformedBody: with ``malformed_json``, ``not_a_json_object``, ``number_too_long``
        or ``too_deeply_nested``.
    """
    try:
        value = json.loads(
            body,
            parse_int=_bounded_int,
            parse_float=_bounded_float,
            parse_constant=_no_constant,
        )
    except RecursionError:
        raise MalformedBody("too_deeply_nested") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise MalformedBody("malformed_json") from None
    if not isinstance(value, dict):
        raise MalformedBody("not_a_json_object")
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise MalformedBody("too_deeply_nested")
    return value


def refuse(status: int, reason: str) -> ResponseReturnValue:
    response = jsonify(error=reason)
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response
