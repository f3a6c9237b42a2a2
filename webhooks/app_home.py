"""The app home (multi-shop mode): Shopify opens ``/app`` inside the admin with an App Bridge
ID token; we verify it with ``shopify_app``, exchange it for an expiring offline token and keep
that (encrypted) so the worker can act for the shop. https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/token-exchange
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from shopify_app import ShopifyApp
from shopify_app.types import RequestInput

from integrator.shopify.errors import ShopifyError
from integrator.shopify.tokens import ExpiringOfflineTokens
from webhooks.extensions import container_of

log = logging.getLogger(__name__)
app_home = Blueprint("app_home", __name__)

PATCH_ID_TOKEN_PATH = "/app/patch-id-token"


def _request_input() -> RequestInput:
    # shopify_app builds its redirects from this URL: from PUBLIC_URL, never from the Host
    # header a client chose (it would send the shop's browser to any host)
    public_url = container_of(current_app).settings.public_url
    query = request.query_string.decode("latin-1")
    return {
        "method": request.method,
        "headers": dict(request.headers),
        "url": f"{public_url}{request.path}" + (f"?{query}" if query else ""),
        "body": request.get_data(as_text=True),
    }


def _answer(result_response: Any) -> Response:
    response = Response(result_response.body, status=result_response.status)
    for name, value in (result_response.headers or {}).items():
        response.headers[name] = value
    return response


def _shopify_app() -> ShopifyApp:
    settings = container_of(current_app).settings
    return ShopifyApp(
        client_id=settings.shopify_client_id,
        client_secret=settings.shopify_client_secret,
        old_client_secret=settings.shopify_old_client_secret or None,
    )


@app_home.get("/app")
def home() -> ResponseReturnValue:
    from integrator.pipeline.fulfillment_requests import connect_new_shop

    container = container_of(current_app)
    if not container.settings.shopify_client_secret or container.shopify_client is None:
        return Response("the Shopify app is not configured", status=503)
    result = _shopify_app().verify_app_home_req(_request_input(), PATCH_ID_TOKEN_PATH)
    if not result.ok:
        log.info("app_home.rejected", extra={"reason": result.log.code})
        return _answer(result.response)
    source = container.shopify.tokens.source
    if not isinstance(source, ExpiringOfflineTokens):
        # single-store or static-token mode: the token comes from the grant, not from here
        return Response(f"connected: {result.shop}", status=200, mimetype="text/plain")
    try:
        shop, token = source.exchange(result.id_token)  # type: ignore[arg-type]
        container.shopify.tokens.install(shop, token)
        connect_new_shop(container, shop)
    except ShopifyError as error:
        log.warning("app_home.exchange_failed", extra={"reason": type(error).__name__})
        return Response("could not connect the shop; reload the app", status=502)
    log.info("app_home.connected", extra={"shop": shop})
    return Response(
        f"<!doctype html><title>integrator</title><p>{shop} is connected. "
        "Orders paid from now on are routed to your suppliers.</p>",
        status=200,
        mimetype="text/html",
    )


@app_home.get(PATCH_ID_TOKEN_PATH)
def patch_id_token() -> ResponseReturnValue:
    if not container_of(current_app).settings.shopify_client_secret:
        return Response("the Shopify app is not configured", status=503)
    result = _shopify_app().app_home_patch_id_token(_request_input())
    return _answer(result.response)
