"""Checks shared by every webhook view, each on the raw request."""

from __future__ import annotations

import json
from typing import Any

from flask import Request, jsonify
from flask.typing import ResponseReturnValue


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


def _no_constant(text: str) -> Any:
    raise MalformedBody("malformed_json")  # NaN and Infinity are not JSON


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Parse a (verified) body that must be a JSON object, within the parser's limits.

    The limits are the C parser's own, so a delivery costs one ``json.loads``: nesting deeper
    than the interpreter's recursion limit (about 1,000 levels) and integers longer than
    Python's 4,300 digits are refused, as are ``NaN`` and ``Infinity``.

    :raises MalformedBody: with ``malformed_json``, ``not_a_json_object`` or
        ``too_deeply_nested``.
    """
    try:
        value = json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise MalformedBody("too_deeply_nested") from None
    except ValueError:  # JSONDecodeError, UnicodeDecodeError, an integer over 4,300 digits
        raise MalformedBody("malformed_json") from None
    if not isinstance(value, dict):
        raise MalformedBody("not_a_json_object")
    return value


def refuse(status: int, reason: str) -> ResponseReturnValue:
    response = jsonify(error=reason)
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response
