"""The composition root: the one place that turns Settings into working parts.

Web, worker, clock, CLI and tests all call :func:`bootstrap`; tests pass fakes in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from integrator.db.database import Database
from integrator.settings import Settings, load_settings


@dataclass
class Container:
    settings: Settings
    db: Database
    # filled in by later layers (pipeline handlers, adapters, Shopify client)
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        self.db.dispose()


def bootstrap(settings: Settings | None = None, *, db: Database | None = None) -> Container:
    settings = settings or load_settings()
    return Container(settings=settings, db=db or Database.from_url(settings.database_url))
