"""Who may use the console and the admin API: ADMIN_TOKEN, sessions, CSRF, sign-in throttling.

The token is compared in constant time everywhere. The session cookie is signed with a key
derived from ADMIN_TOKEN (so every process agrees on it, and changing the token signs everyone
out); the CSRF token lives in that session and travels in a hidden form field.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, MutableMapping
from typing import Any

SESSION_KEY_LABEL = b"integrator admin console session v1"
CSRF_FIELD = "csrf_token"
SIGNED_IN = "admin_signed_in"
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


def session_secret(admin_token: str) -> str:
    """The Flask secret key: stable across processes, and changes with the token."""
    return hmac.new(admin_token.encode("utf-8"), SESSION_KEY_LABEL, hashlib.sha256).hexdigest()


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


def sign_in(session: MutableMapping[str, Any]) -> None:
    """Start a fresh signed-in session (a new CSRF token, nothing kept from before)."""
    session.clear()
    session[SIGNED_IN] = True
    session[CSRF_SESSION_KEY] = secrets.token_urlsafe(32)


def is_signed_in(session: MutableMapping[str, Any]) -> bool:
    return session.get(SIGNED_IN) is True


class SignInLimiter:
    """At most ``attempts`` sign-in tries per client address in any ``window_seconds``.

    In memory, per process: enough to make guessing the token by hand hopeless; a fleet of
    processes each allows its own share.
    """

    MAX_CLIENTS = 10_000  # bound the memory an attacker can make us hold

    def __init__(
        self,
        attempts: int = 10,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.attempts = attempts
        self.window_seconds = window_seconds
        self._clock = clock
        self._tries: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        """Count one try by ``client``; False when it is over the limit."""
        now = self._clock()
        with self._lock:
            if len(self._tries) >= self.MAX_CLIENTS:
                self._forget_idle(now)
            tries = self._tries.setdefault(client, deque())
            while tries and tries[0] <= now - self.window_seconds:
                tries.popleft()
            if len(tries) >= self.attempts:
                return False
            tries.append(now)
            return True

    def _forget_idle(self, now: float) -> None:
        cutoff = now - self.window_seconds
        for client in [c for c, tries in self._tries.items() if not tries or tries[-1] <= cutoff]:
            del self._tries[client]
        if len(self._tries) >= self.MAX_CLIENTS:
            self._tries.clear()
