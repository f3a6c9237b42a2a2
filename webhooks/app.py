"""The Flask application factory: every HTTP entry point of the service."""

from __future__ import annotations

import os

from flask import Flask

from integrator.bootstrap import Container, bootstrap
from integrator.logs import configure_logging
from integrator.settings import Settings


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> Flask:
    """Build the app from settings (read once here, never at import).

    Without a container (gunicorn's ``webhooks.app:create_app()``) this is the process's
    composition root, so it also sets up JSON logging; tests pass their own container.
    """
    if container is None:
        container = bootstrap(settings)
        configure_logging(container.settings.log_level, json_lines=container.settings.log_json)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = None  # the webhook views enforce their own limit
    app.extensions["integrator"] = container

    from webhooks.admin import admin
    from webhooks.app_home import app_home
    from webhooks.health import health
    from webhooks.metrics import metrics
    from webhooks.request_context import request_context
    from webhooks.shopify import shopify_webhooks
    from webhooks.suppliers import supplier_webhooks

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


def container_of(app: Flask) -> Container:
    container: Container = app.extensions["integrator"]
    return container
