"""Shopify webhook HMAC verification over the raw bytes, and the matching signer for tests.

Shopify signs the raw body with the app's client secret (base64 HMAC-SHA256 in
``X-Shopify-Hmac-Sha256``); during a secret rotation deliveries may carry either secret for
up to an hour, so several secrets are accepted. The bytes received are the bytes checked,
and nothing looks at them before the signature is known to be good: an unsigned request
costs one HMAC per secret and no parsing (``shopify_app`` parsed the body as JSON for its log
redaction before checking, so a forged 1 MB JSON body cost 33 times a forged binary one).
https://shopify.dev/docs/apps/build/webhooks/verify-deliveries
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping, Sequence

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
_DIGEST_SIZE = hashlib.sha256().digest_size


def verify_signature(body: bytes, signature: str | None, secrets: Sequence[str]) -> bool:
    """Say whether ``signature`` (the header's base64 text) is the HMAC of ``body``.

    ``secrets`` is the current client secret first, then ``SHOPIFY_OLD_CLIENT_SECRET``; the
    digests are compared in constant time.
    """
    if not signature:
        return False
    try:
        given = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):  # not base64, or not ASCII at all
        return False
    if len(given) != _DIGEST_SIZE:
        return False
    return any(
        hmac.compare_digest(hmac.digest(secret.encode("utf-8"), body, "sha256"), given)
        for secret in secrets
        if secret
    )


def verify_webhook(body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> bool:
    """Say whether ``body`` carries a valid Shopify HMAC for any of ``secrets``."""
    return verify_signature(body, _header(headers, HMAC_HEADER), secrets)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def sign_webhook(body: bytes, secret: str) -> str:
    """Return the ``X-Shopify-Hmac-Sha256`` value Shopify would send for ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
