"""The server's side of console sessions: a random signing key and a revocation epoch, kept in
the database so that every web process agrees on them (``admin_console_state``, one row).

* The key that signs session cookies is 32 random bytes made once, stored encrypted with
  ENCRYPTION_KEY. It is not derived from ADMIN_TOKEN: a cookie anyone can get from the sign-in
  page must not let a weak token be guessed offline (issue 11).
* A cookie carries the epoch it was issued in; it is valid only while that is the current
  epoch. Sign-out moves the epoch on (every earlier cookie is revoked, in every process), and
  so does a process that starts with a different ADMIN_TOKEN (its keyed fingerprint differs
  from the stored one).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select, update

from integrator.db.database import Database
from integrator.db.models import AdminConsoleState
from integrator.db.timestamps import utcnow
from integrator.db.upsert import insert_or_ignore

ROW = 1
KEY_BYTES = 32


@dataclass(frozen=True)
class SessionState:
    epoch: int
    token_fingerprint: str


class AdminSessionStore:
    """Reads and moves the shared state; the signing key is read once per process."""

    def __init__(self, db: Database, encryption_keys: Sequence[str]) -> None:
        if not encryption_keys:
            raise ValueError("ENCRYPTION_KEY holds no key")
        self._db = db
        self._fernet = MultiFernet([Fernet(key.encode()) for key in encryption_keys])
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def signing_key(self) -> bytes:
        """The cookie signing key, made by the first process that asks.

        :raises sqlalchemy.exc.DBAPIError: when the database cannot be reached.
        """
        with self._lock:
            if self._key is None:
                self._key = self._load_or_make_key()
            return self._key

    def fingerprint(self, admin_token: str) -> str:
        """A keyed hash of the token: tells a changed token, reveals nothing without the key."""
        digest = hmac.new(self.signing_key(), admin_token.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()

    def state(self) -> SessionState:
        with self._db.read() as session:
            row = session.get(AdminConsoleState, ROW)
            if row is None:
                raise LookupError("admin_console_state has no row yet")
            return SessionState(row.epoch, row.token_fingerprint)

    def adopt_token(self, fingerprint: str) -> SessionState:
        """Make ``fingerprint`` the current token's; a different one before revokes every
        session (a changed ADMIN_TOKEN signs everyone out)."""
        self.signing_key()
        with self._db.write() as session:
            session.execute(
                update(AdminConsoleState)
                .where(
                    AdminConsoleState.id == ROW,
                    AdminConsoleState.token_fingerprint != fingerprint,
                )
                .values(
                    epoch=AdminConsoleState.epoch + 1,
                    token_fingerprint=fingerprint,
                    updated_at=utcnow(),
                )
            )
        return self.state()

    def revoke_all(self) -> SessionState:
        """Sign-out: no cookie issued before now is valid any more, in any process."""
        with self._db.write() as session:
            session.execute(
                update(AdminConsoleState)
                .where(AdminConsoleState.id == ROW)
                .values(epoch=AdminConsoleState.epoch + 1, updated_at=utcnow())
            )
        return self.state()

    def _load_or_make_key(self) -> bytes:
        for _attempt in range(3):
            key = self._read_or_replace_key()
            if key is not None:
                return key
        raise RuntimeError(
            "the console's signing key keeps changing: do processes disagree on ENCRYPTION_KEY?"
        )

    def _read_or_replace_key(self) -> bytes | None:
        """The key, made if there is none; None after replacing one no key of ours opens."""
        with self._db.write() as session:
            insert_or_ignore(
                session,
                AdminConsoleState,
                {
                    "id": ROW,
                    "signing_key_encrypted": self._fernet.encrypt(secrets.token_bytes(KEY_BYTES)),
                    "epoch": 1,
                    "token_fingerprint": "",
                    "updated_at": utcnow(),
                },
                conflict=["id"],
            )
            sealed = session.scalar(
                select(AdminConsoleState.signing_key_encrypted).where(AdminConsoleState.id == ROW)
            )
            assert sealed is not None
            try:
                return self._fernet.decrypt(sealed)
            except InvalidToken:
                pass
            # every ENCRYPTION_KEY that sealed it is gone: a new key, everyone signs in again
            session.execute(
                update(AdminConsoleState)
                .where(
                    AdminConsoleState.id == ROW,
                    AdminConsoleState.signing_key_encrypted == sealed,
                )
                .values(
                    signing_key_encrypted=self._fernet.encrypt(secrets.token_bytes(KEY_BYTES)),
                    epoch=AdminConsoleState.epoch + 1,
                    updated_at=utcnow(),
                )
            )
        return None
