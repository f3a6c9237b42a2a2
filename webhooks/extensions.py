"""What the app factory puts in ``app.extensions`` and every view reads back: the container
(the process's composition root) and the Shopify inbox's group committer.

A module of its own so that views need not import the factory that imports them.
"""

from __future__ import annotations

from flask import Flask

from integrator.bootstrap import Container
from integrator.pipeline.group_commit import GroupCommitter
from integrator.pipeline.inbox import NewDelivery, Stored

CONTAINER = "integrator"
SHOPIFY_INBOX = "shopify_inbox"


def container_of(app: Flask) -> Container:
    container: Container = app.extensions[CONTAINER]
    return container


def inbox_of(app: Flask) -> GroupCommitter[NewDelivery, Stored]:
    """The app's group committer for Shopify deliveries (one writer thread per process)."""
    committer: GroupCommitter[NewDelivery, Stored] = app.extensions[SHOPIFY_INBOX]
    return committer
