"""Shopify's webhook signature computed in the tests from the published recipe, never by our
signer (``integrator.shopify.webhook_verification.sign_webhook``): otherwise a receiver test
would pass whatever the signer and the verifier agreed on between themselves.

shopify.dev, "Verify webhooks": the ``X-Shopify-Hmac-SHA256`` header is the base64-encoded
HMAC-SHA256 digest of the raw request body, keyed with the app's client secret.
``tests/shopify/test_webhook_hmac_known_answers.py`` checks this function against digests
made by OpenSSL and by another project's published test vector.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def shopify_signature(body: bytes, client_secret: str) -> str:
    digest = hmac.new(client_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
