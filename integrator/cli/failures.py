"""Failures an operator can fix, told in a line each instead of a traceback."""

from __future__ import annotations


def expected_failure(error: BaseException) -> str | None:
    """What to print for a failure the operator can fix (the database unreachable or not
    migrated, a configuration problem); None for anything else, a bug whose traceback is
    wanted."""
    from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError

    from integrator.settings import SettingsError
    from integrator.store_config.problems import ConfigError

    if isinstance(error, ConfigError):
        return "\n".join(str(problem) for problem in error.problems)  # one line per problem
    if isinstance(error, SettingsError):
        return "\n".join(error.problems)
    if isinstance(error, OperationalError | ProgrammingError | InterfaceError):
        # the driver's own first line (no URL, no password): "no such table: jobs",
        # "connection to server ... failed: Connection refused"
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        return (
            f"database (DATABASE_URL): {reason}; is it running, and migrated "
            "(`integrator db upgrade`)?"
        )
    return None
