"""Webhook HMAC verification through shopify_app, and the matching signer for tests.

Shopify signs the raw body with the app's client secret (base64 HMAC-SHA256 in
``X-Shopify-Hmac-Sha256``); during a secret rotation deliveries may carry either secret for
up to an hour, so several secrets are accepted. The body is never re-serialised: the bytes
received are the bytes checked. https://shopify.dev/docs/apps/build/webhooks/verify-deliveries
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence

from shopify_app.types import AppConfig, RequestInput
from shopify_app.verify.webhook import verify_webhook_req

HMAC_HEADER = "X-Shopify-Hmac-Sha256"


def verify_webhook(body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> bool:
    """Say whether ``body`` carries a valid Shopify HMAC for any of ``secrets``.

    ``secrets`` is the current client secret first, then ``SHOPIFY_OLD_CLIENT_SECRET``.
    """
    given = _header(headers, HMAC_HEADER)
    if not given or not given.isascii():
        return False  # shopify_app's compare_digest raises TypeError on non-ASCII text
    try:
        text = body.decode("utf-8")  # Shopify sends UTF-8 JSON; shopify_app hashes text as UTF-8
    except UnicodeDecodeError:
        # shopify_app takes text; bytes that are not UTF-8 are checked on the raw bytes here,
        # so a correctly signed but malformed body gets its 400, not a 401
        return any(
            hmac.compare_digest(sign_webhook(body, secret), given) for secret in secrets if secret
        )
    request: RequestInput = {"method": "POST", "headers": dict(headers), "url": "", "body": text}
    usable = [secret for secret in secrets if secret]
    # shopify_app takes a current and an old secret; pair them up for longer lists
    for current, old in zip(usable[::2], [*usable[1::2], None], strict=False):
        config: AppConfig = {
            "client_id": "webhooks",
            "client_secret": current,
            "old_client_secret": old,
        }
        if verify_webhook_req(request, config).ok:
            return True
    return False


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def sign_webhook(body: bytes, secret: str) -> str:
    """Return the ``X-Shopify-Hmac-Sha256`` value Shopify would send for ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
