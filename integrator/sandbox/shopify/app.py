"""The sandbox as a WSGI app, and ``serve`` to run it on loopback in a background thread.

Routes: ``POST /admin/api/<version>/graphql.json`` (``X-Shopify-Access-Token``),
``POST /admin/oauth/access_token``, and ``GET /_sandbox/counters`` for demos.
In tests use it in-process: ``httpx.Client(transport=httpx.WSGITransport(app=app))``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from integrator.sandbox.shopify.admin_api import answer_graphql
from integrator.sandbox.shopify.oauth import answer_token_request
from integrator.sandbox.shopify.schema import admin_schema

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from integrator.sandbox.shopify.sandbox import SandboxShopify

API_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")
SHOP_HEADER = "X-Shopify-Shop-Domain"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


class SandboxApp:
    """WSGI callable over one :class:`SandboxShopify`."""

    def __init__(self, sandbox: SandboxShopify) -> None:
        self.sandbox = sandbox
        admin_schema()  # build it now rather than inside the first request
        self.routes = Map(
            [
                Rule("/admin/api/<version>/graphql.json", endpoint="graphql", methods=["POST"]),
                Rule("/admin/oauth/access_token", endpoint="token", methods=["POST"]),
                Rule("/_sandbox/counters", endpoint="counters", methods=["GET"]),
            ]
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, values = self.routes.bind_to_environ(environ).match()
            response = getattr(self, f"_{endpoint}")(request, **values)
        except (NotFound, MethodNotAllowed) as error:
            response = _json(error.code or 404, {"errors": "Not Found"})
        except HTTPException as error:
            response = _json(error.code or 400, {"errors": error.description})
        body: Iterable[bytes] = response(environ, start_response)
        return body

    def _graphql(self, request: Request, version: str) -> Response:
        if not API_VERSION.match(version):
            return _json(404, {"errors": "Not Found"})
        grant = self.sandbox.tokens.grant_for(request.headers.get("X-Shopify-Access-Token", ""))
        named = [hint for hint in _shop_hints(request) if hint in self.sandbox.shops]
        if grant is None or (named and named[0] != grant.shop):
            return _json(401, {"errors": INVALID_TOKEN})
        shop = self.sandbox.shops.get(grant.shop)
        if shop is None:
            return _json(401, {"errors": INVALID_TOKEN})
        status, body = answer_graphql(
            shop, tuple(grant.scope.split(",")), _graphql_body(request), self.sandbox.config
        )
        return _json(status, body)

    def _token(self, request: Request) -> Response:
        body = _body(request) if request.is_json else request.form.to_dict()
        status, answer = answer_token_request(
            self.sandbox, _shop_hints(request), body if isinstance(body, dict) else {}
        )
        return _json(status, answer)

    def _counters(self, request: Request) -> Response:
        return _json(
            200,
            {
                domain: {
                    "requests": shop.counters.requests,
                    "throttled": shop.counters.throttled,
                    "fulfillments": sum(shop.counters.fulfillments_by_order.values()),
                }
                for domain, shop in self.sandbox.shops.items()
            },
        )


def _shop_hints(request: Request) -> list[str]:
    """Shop domains a request names: its Host, then the header a proxy adds."""
    hints = [request.host.split(":", 1)[0], request.headers.get(SHOP_HEADER, "")]
    return [hint for hint in hints if hint]


def _graphql_body(request: Request) -> Any:
    """Read a JSON body, or a bare document sent as ``application/graphql`` (Shopify takes both)."""
    if request.mimetype == "application/graphql":
        return {"query": request.get_data(as_text=True)}
    return _body(request)


def _body(request: Request) -> Any:
    try:
        return json.loads(request.get_data())
    except ValueError:
        return None


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Stay silent: demos and benchmarks send thousands of requests."""


def serve(
    app: WSGIApplication, host: str = "127.0.0.1", port: int = 0
) -> tuple[str, Callable[[], None]]:
    """Run ``app`` on loopback in a daemon thread; return its base URL and a stop function."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the sandbox only listens on loopback")
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="sandbox-shopify", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://{host}:{server.server_port}", stop
