"""Jinja filters for the console: times in UTC and durations for people."""

from __future__ import annotations

from datetime import datetime

from integrator.domain.durations import human


def when(value: datetime | str | None) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M UTC")


def label(value: str | None) -> str:
    """``in_production`` → ``in production``."""
    return (value or "—").replace("_", " ")


FILTERS = {
    "admin_when": when,
    "admin_duration": human,  # ``3 d 4 h``, ``2 h 5 min``, ``40 s``
    "admin_label": label,
}
