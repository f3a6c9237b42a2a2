"""The one long-lived HTTP client for Shopify, and the ``SHOPIFY_ADMIN_URL`` override.

``shopify_app`` builds every URL itself (``https://{shop}.myshopify.com/admin/...``) and has no
base-URL setting; what it does take is an injected ``httpx.Client``. So the override lives in
the client's transport: :class:`AdminUrlTransport` sends any request for a
``*.myshopify.com`` host to ``SHOPIFY_ADMIN_URL`` instead, keeping the path, and says which
shop it was for the way a reverse proxy would: the ``Host`` header stays
``{shop}.myshopify.com`` and ``X-Shopify-Shop-Domain`` carries the same value. Token
endpoints (``/admin/oauth/access_token``) and GraphQL (``/admin/api/{version}/graphql.json``)
both go through it, so the sandbox and tests see every call Shopify would.
"""

from __future__ import annotations

import httpx

SHOP_HOST_SUFFIX = ".myshopify.com"
SHOP_HEADER = "X-Shopify-Shop-Domain"


class AdminUrlTransport(httpx.BaseTransport):
    """Send requests meant for ``https://{shop}.myshopify.com`` to another base URL."""

    def __init__(self, admin_url: str, inner: httpx.BaseTransport) -> None:
        self._base = httpx.URL(admin_url.rstrip("/"))
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        shop = request.url.host
        if shop.endswith(SHOP_HOST_SUFFIX):
            request.url = request.url.copy_with(
                scheme=self._base.scheme,
                host=self._base.host,
                port=self._base.port,
                path=self._base.path.rstrip("/") + request.url.path,
            )
            request.headers[SHOP_HEADER] = shop
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def build_shopify_http_client(
    admin_url: str = "",
    *,
    transport: httpx.BaseTransport | None = None,
    timeout_seconds: float = 20.0,
    max_connections: int = 20,
) -> httpx.Client:
    """Build the pooled client every Shopify call shares (tokens and GraphQL).

    ``transport`` replaces the network (``httpx.MockTransport`` or ``httpx.WSGITransport`` in
    tests); ``admin_url`` (``SHOPIFY_ADMIN_URL``) redirects shop hosts to the sandbox.
    """
    inner = transport or httpx.HTTPTransport(
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        retries=0,  # retries belong to AdminClient's policy, not to the socket layer
    )
    routed = AdminUrlTransport(admin_url, inner) if admin_url else inner
    return httpx.Client(
        transport=routed,
        timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
        follow_redirects=False,
    )
