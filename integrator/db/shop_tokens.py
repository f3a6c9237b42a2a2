"""The ``shops`` table as the Shopify token store: tokens sealed with Fernet, never in clear."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from integrator.db.database import Database
from integrator.db.models import Shop
from integrator.db.timestamps import utcnow
from integrator.domain.statuses import ShopStatus
from integrator.shopify.tokens import SealedShopToken, ShopToken, TokenCipher


def _naive(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC).replace(tzinfo=None) if value and value.tzinfo else value


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value


def _revives(row: Shop, before: datetime | None) -> bool:
    if before is None:
        return False
    gone = row.uninstalled_at or datetime.min
    return gone < (_naive(before) or datetime.min)


class SqlShopTokenStore:
    def __init__(self, db: Database, cipher: TokenCipher) -> None:
        self._db = db
        self._cipher = cipher

    def load(self, shop: str) -> ShopToken | None:
        with self._db.read() as session:
            row = session.scalar(select(Shop).where(Shop.domain == shop))
            if row is None or row.access_token_encrypted is None or row.status != ShopStatus.ACTIVE:
                return None
            sealed = SealedShopToken(
                access_token_encrypted=row.access_token_encrypted.decode(),
                refresh_token_encrypted=(
                    row.refresh_token_encrypted.decode() if row.refresh_token_encrypted else None
                ),
                token_expires_at=_aware(row.token_expires_at),
                refresh_token_expires_at=_aware(row.refresh_token_expires_at),
                scopes=row.scopes,
            )
        return self._cipher.unseal(sealed)

    def save(
        self, shop: str, token: ShopToken, *, revive_if_uninstalled_before: datetime | None = None
    ) -> None:
        sealed = self._cipher.seal(token)
        with self._db.write() as session:
            row = session.scalar(select(Shop).where(Shop.domain == shop).with_for_update())
            if row is None:
                row = Shop(domain=shop, installed_at=utcnow())
                session.add(row)
            elif row.status != ShopStatus.ACTIVE and not _revives(
                row, revive_if_uninstalled_before
            ):
                # app/uninstalled won the race: a token saved now would serve the shop again
                return
            row.status = ShopStatus.ACTIVE
            row.uninstalled_at = None
            row.access_token_encrypted = sealed.access_token_encrypted.encode()
            row.refresh_token_encrypted = (
                sealed.refresh_token_encrypted.encode() if sealed.refresh_token_encrypted else None
            )
            row.token_expires_at = _naive(sealed.token_expires_at)
            row.refresh_token_expires_at = _naive(sealed.refresh_token_expires_at)
            row.scopes = sealed.scopes

    def delete(self, shop: str) -> None:
        """Forget the shop's tokens (app/uninstalled)."""
        with self._db.write() as session:
            row = session.scalar(select(Shop).where(Shop.domain == shop))
            if row is not None:
                row.access_token_encrypted = None
                row.refresh_token_encrypted = None
                row.token_expires_at = None
                row.refresh_token_expires_at = None

    def rotate_all(self) -> int:
        """Re-encrypt every stored token with the newest key; return how many rows changed."""
        changed = 0
        with self._db.write() as session:
            for row in session.scalars(select(Shop)):
                for column in ("access_token_encrypted", "refresh_token_encrypted"):
                    value = getattr(row, column)
                    if value:
                        setattr(row, column, self._cipher.rotate(value.decode()).encode())
                        changed += 1
        return changed
