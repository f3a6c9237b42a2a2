"""The secrets the tests run with: the shipped configuration holds none that works (issue 11),
so the tests give every process the credentials it needs explicitly, from here.

Values are random for each test session, long enough for every check, and never a sandbox
value. ``tests/conftest.py`` puts them in the environment of every test (and so of every
process a test starts); a test of a missing or weak secret removes or replaces one.
"""

from __future__ import annotations

import secrets

from cryptography.fernet import Fernet

# every credential variable that config/ (examples included) refers to
SUPPLIER_CREDENTIAL_VARIABLES = (
    "PRINTFUL_API_KEY",
    "PRINTFUL_CALLBACK_SECRET",
    "PRINTIFY_API_KEY",
    "PRINTIFY_CALLBACK_SECRET",
    "GELATO_API_KEY",
    "GELATO_CALLBACK_SECRET",
    "PRODIGI_API_KEY",
    "PRODIGI_CALLBACK_SECRET",
    "ACME_GELATO_API_KEY",
    "ACME_GELATO_CALLBACK_SECRET",
    "ACME_PRINTFUL_API_KEY",
    "ACME_PRINTFUL_CALLBACK_SECRET",
)
# account ids config/routing.yaml needs; the sandbox suppliers' own
ACCOUNT_VARIABLES = {"PRINTIFY_SHOP_ID": "2002", "PRINTFUL_STORE_ID": "1001"}

SUPPLIER_ENV: dict[str, str] = {
    **{name: secrets.token_urlsafe(32) for name in SUPPLIER_CREDENTIAL_VARIABLES},
    **ACCOUNT_VARIABLES,
}
ENCRYPTION_KEY = Fernet.generate_key().decode()
# what every process needs besides the supplier credentials
PROCESS_ENV = {"ENCRYPTION_KEY": ENCRYPTION_KEY}
TEST_ENV = {**SUPPLIER_ENV, **PROCESS_ENV}


def callback_secret(supplier: str) -> str:
    """Our callback secret for ``supplier`` as config/routing.yaml reads it in the tests (a
    supplier config/ does not name has none: an empty string)."""
    return SUPPLIER_ENV.get(f"{supplier.upper()}_CALLBACK_SECRET", "")
