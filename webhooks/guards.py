"""Checks shared by every webhook view, each on the raw request."""

from __future__ import annotations

from flask import Request, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# the database could not take the delivery: the sender must retry
DATABASE_DOWN = (DBAPIError, PoolTimeout)


class TooLarge(Exception):
    pass


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


def refuse(status: int, reason: str) -> ResponseReturnValue:
    response = jsonify(error=reason)
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response
