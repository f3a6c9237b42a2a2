"""The operator's side of the service under ``/admin``: the console pages and the JSON API.

Register :data:`admin` on the app; it carries ``admin.console`` (pages, session + CSRF) and
``admin.api`` (``/admin/api``, bearer token).
"""

from __future__ import annotations

from flask import Blueprint

from webhooks.admin.api import admin_api
from webhooks.admin.console import console

admin = Blueprint("admin", __name__, url_prefix="/admin")
admin.register_blueprint(console)
admin.register_blueprint(admin_api, url_prefix="/api")

__all__ = ["admin"]
