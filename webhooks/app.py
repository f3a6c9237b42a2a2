"""The Flask application factory: every HTTP entry point of the service."""

from __future__ import annotations

import os
import sys

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from integrator.bootstrap import Container, StartupRefused, bootstrap_process
from integrator.logs import configure_logging
from integrator.pipeline.shopify_deliveries import shopify_inbox
from integrator.settings import Settings
from webhooks.admin import admin
from webhooks.app_home import app_home
from webhooks.extensions import CONTAINER, SHOPIFY_INBOX
from webhooks.health import health
from webhooks.metrics import metrics
from webhooks.request_context import request_context
from webhooks.shopify import shopify_webhooks
from webhooks.suppliers import supplier_webhooks


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> Flask:
    """Build the app from settings (read once here, never at import).

    Without a container (gunicorn's ``webhooks.app:create_app()``) this is the process's
    composition root, so it also sets up JSON logging; tests pass their own container.
    """
    if container is None:
        try:
            container = bootstrap_process(settings)
        except StartupRefused as error:
            print(*error.problems, sep="\n", file=sys.stderr)
            # 3 is gunicorn's "worker failed to boot": the arbiter stops instead of starting
            # the worker again and again
            raise SystemExit(WORKER_BOOT_ERROR) from error
        configure_logging(container.settings.log_level, json_lines=container.settings.log_json)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = None  # the webhook views enforce their own limit
    app.extensions[CONTAINER] = container
    app.extensions[SHOPIFY_INBOX] = shopify_inbox(container)
    _behind_proxies(app, container.settings)
    app.register_blueprint(request_context)
    app.register_blueprint(health)
    app.register_blueprint(app_home)
    app.register_blueprint(metrics)
    app.register_blueprint(admin)
    app.register_blueprint(shopify_webhooks)
    app.register_blueprint(supplier_webhooks)
    if os.environ.get("INTEGRATOR_BENCH_BASELINE") == "1":
        # bench/ingest.py's verify-only endpoint, measured beside the real receiver
        from webhooks.bench_baseline import bench_baseline

        app.register_blueprint(bench_baseline)
    return app


WORKER_BOOT_ERROR = 3
HSTS = "max-age=31536000"  # a year: the service is reached over https from now on


def _behind_proxies(app: Flask, settings: Settings) -> None:
    """The client's address from X-Forwarded-For behind TRUSTED_PROXIES proxies (the sign-in
    throttle counts per client); HSTS when PUBLIC_URL is https. URLs we hand out are built
    from PUBLIC_URL, never from Host or X-Forwarded-Host, so only the address is taken."""
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=0, x_host=0, x_port=0
        )
    if settings.is_https:

        @app.after_request
        def _strict_transport(response: Response) -> Response:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
            return response
