"""The console's and the admin API's door, one per app: whether it is open at all, the session
cookie's signing key and epoch (kept in the database), and the failure throttle.

Settings are read once, when the app is built; the database is asked lazily, so the web role
starts (and answers webhooks) while the database is still coming up.
"""

from __future__ import annotations

import hashlib
import logging
import threading

from flask import Flask, Request, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from limits.errors import StorageError
from sqlalchemy.exc import SQLAlchemyError

from integrator.db.admin_sessions import AdminSessionStore
from integrator.db.database import Database
from integrator.settings import Settings
from webhooks.admin.throttle import AuthThrottle, build_throttle

log = logging.getLogger(__name__)
EXTENSION = "admin_access"
ADMIN_PREFIX = "/admin"
# what a request cannot do without the database: no key, no epoch, no count
UNAVAILABLE = (SQLAlchemyError, StorageError)


class AdminAccess:
    def __init__(self, settings: Settings, db: Database, throttle: AuthThrottle) -> None:
        self.throttle = throttle
        self._token = settings.admin_token
        self.closed_reason = settings.admin_closed_reason
        if self.closed_reason is None and not settings.encryption_keys:
            self.closed_reason = "ENCRYPTION_KEY is not set (it protects the session key)"
        self._store = (
            AdminSessionStore(db, settings.encryption_keys) if self.closed_reason is None else None
        )
        self._fingerprint: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def build(cls, settings: Settings, db: Database) -> AdminAccess:
        access = cls(settings, db, build_throttle(settings, db))
        if access.closed_reason:
            log.warning("admin.closed", extra={"reason": access.closed_reason})
        return access

    @property
    def store(self) -> AdminSessionStore:
        if self._store is None:
            raise RuntimeError(f"the console is closed: {self.closed_reason}")
        return self._store

    def signing_key(self) -> bytes:
        """:raises sqlalchemy.exc.SQLAlchemyError: when the database cannot be reached."""
        return self.store.signing_key()

    def current_epoch(self) -> int | None:
        """The epoch a valid cookie carries now, or None when another ADMIN_TOKEN took over
        (then no session of this process is valid: it runs with a replaced token).

        The first call of a process makes its token the current one: a process started with
        a new ADMIN_TOKEN revokes every session made under the old one.
        """
        with self._lock:
            first = self._fingerprint is None
            if self._fingerprint is None:
                self._fingerprint = self.store.fingerprint(self._token)
            mine = self._fingerprint
        state = self.store.adopt_token(mine) if first else self.store.state()
        return state.epoch if state.token_fingerprint == mine else None

    def sign_out_everyone(self) -> None:
        self.store.revoke_all()


def access_of(app: Flask) -> AdminAccess:
    access: AdminAccess = app.extensions[EXTENSION]
    return access


class ServerKeySessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, signed with the key the server keeps in the database,
    and only under /admin (nothing else of the service has a session)."""

    digest_method = staticmethod(hashlib.sha256)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if request.path != ADMIN_PREFIX and not request.path.startswith(ADMIN_PREFIX + "/"):
            return None
        access = app.extensions.get(EXTENSION)
        if access is None or access.closed_reason:
            return None
        try:
            key = access.signing_key()
        except UNAVAILABLE:
            log.warning("admin.session_key_unavailable")
            request.environ["integrator.admin_unavailable"] = True
            return None
        return URLSafeTimedSerializer(
            key,
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )


def database_unavailable(current: Request) -> bool:
    return bool(current.environ.get("integrator.admin_unavailable"))
