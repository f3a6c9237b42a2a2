"""Who may use the console and the admin API: ADMIN_TOKEN, sessions, CSRF.

The token is compared in constant time everywhere. Session cookies are signed with a random
key the server keeps (:mod:`integrator.db.admin_sessions`), never with anything derived from
the token, and carry the epoch they were issued in: sign-out and a new ADMIN_TOKEN move the
epoch on and so revoke every earlier cookie. The CSRF token lives in the session and travels
in a hidden form field.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

CSRF_FIELD = "csrf_token"
SIGNED_IN = "admin_signed_in"
SESSION_EPOCH = "admin_epoch"
CSRF_SESSION_KEY = "admin_csrf"


def tokens_match(given: str | None, expected: str) -> bool:
    """Say whether ``given`` is the admin token; an unset token matches nothing."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """This session's CSRF token, made on first use."""
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def csrf_matches(session: MutableMapping[str, Any], submitted: str | None) -> bool:
    expected = session.get(CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not expected or not submitted:
        return False
    return hmac.compare_digest(submitted.encode("utf-8"), expected.encode("utf-8"))


def sign_in(session: MutableMapping[str, Any], epoch: int) -> None:
    """Start a fresh signed-in session in ``epoch`` (a new CSRF token, nothing kept)."""
    session.clear()
    session[SIGNED_IN] = True
    session[SESSION_EPOCH] = epoch
    session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)


def is_signed_in(session: MutableMapping[str, Any], epoch: int | None) -> bool:
    """Signed in, and in the current epoch (None: no session of this process is valid)."""
    return (
        session.get(SIGNED_IN) is True and epoch is not None and session.get(SESSION_EPOCH) == epoch
    )
