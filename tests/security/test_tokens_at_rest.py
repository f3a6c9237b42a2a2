"""Shopify tokens are unreadable in a database dump: the shops table holds Fernet ciphertext."""

from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy import select

from bench.chaos.common import start_stack
from bench.chaos.security_checks import dump_database, full_run_exposure
from integrator.db.database import Database
from integrator.db.models import Shop
from integrator.db.shop_tokens import SqlShopTokenStore
from integrator.shopify.tokens import ShopToken, TokenCipher

ACCESS = "shpat_0123456789abcdef0123456789abcdef"
REFRESH = "shprt_fedcba9876543210fedcba9876543210"


def test_a_stored_token_is_ciphertext_in_the_dump(database_url: str, db: Database) -> None:
    key = Fernet.generate_key().decode()
    store = SqlShopTokenStore(db, TokenCipher([key]))
    store.save("vault.myshopify.com", ShopToken(ACCESS, refresh_token=REFRESH, scopes="x"))

    dump = dump_database(database_url)

    assert "vault.myshopify.com" in dump  # the dump is complete: the row is in it
    assert ACCESS not in dump and REFRESH not in dump
    assert ACCESS[6:] not in dump  # not even without its prefix
    with db.read() as session:
        row = session.scalars(select(Shop)).one()
        assert row.access_token_encrypted is not None
        assert row.access_token_encrypted.startswith(b"gAAAAA")  # a Fernet token
    loaded = store.load("vault.myshopify.com")
    assert loaded is not None and loaded.access_token == ACCESS
    other_key = SqlShopTokenStore(db, TokenCipher([Fernet.generate_key().decode()]))
    try:
        other_key.load("vault.myshopify.com")
    except Exception as error:  # noqa: BLE001 - any refusal will do; a token would be a leak
        assert ACCESS not in str(error)
    else:
        raise AssertionError("a dump read with another key gave the token back")


def test_the_token_issued_during_a_full_run_is_not_in_the_dump(database_url: str) -> None:
    stack = start_stack(database_url)
    try:
        exposure = full_run_exposure(stack, database_url, 2)
    finally:
        stack.close()

    assert exposure.tokens_issued >= 1
    assert exposure.secrets_in_dump == []
