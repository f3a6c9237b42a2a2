"""Jinja filters for the console: times in UTC, durations and hours for people."""

from __future__ import annotations

from datetime import datetime


def when(value: datetime | str | None) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: float | None) -> str:
    """``3 d 4 h``, ``2 h 5 min``, ``40 s``: two units at most."""
    if seconds is None:
        return "—"
    whole = int(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h"


def label(value: str | None) -> str:
    """``in_production`` → ``in production``."""
    return (value or "—").replace("_", " ")


FILTERS = {
    "admin_when": when,
    "admin_duration": duration,
    "admin_hours": hours,
    "admin_label": label,
}
