"""What makes a supplier's credentials unusable: missing, empty, a sandbox value, or (for the
secrets we generate ourselves) too short to resist guessing.

The shipped configuration holds no secret that works; these checks make sure a process never
starts on one (issue 11: a well-known sandbox callback secret let anyone forge a supplier's
"shipped" callback and rewrite a customer's tracking link).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# secrets we make (callback secrets): 32 characters of secrets.token_urlsafe are 192 bits
GENERATED_SECRET_MIN_LENGTH = 32
# the sandboxes' own values and the usual placeholders: never a real credential
SANDBOX_PREFIX = "sandbox"
PLACEHOLDERS = frozenset(
    {"changeme", "change-me", "change_me", "secret", "password", "xxx", "todo", "test", "…", "..."}
)


@dataclass(frozen=True)
class Credential:
    key: str  # the option's name under suppliers.<name>
    what: str  # what it is, for messages
    required: bool
    ours: bool  # we generate it (callback secrets), so a minimum length applies


CREDENTIALS: tuple[Credential, ...] = (
    Credential("api_key", "the supplier's API key", required=True, ours=False),
    Credential("callback_secret", "our callback secret", required=True, ours=True),
    Credential("webhook_secret", "the supplier's webhook signing secret", False, ours=False),
)
CREDENTIAL_KEYS = frozenset(credential.key for credential in CREDENTIALS)
MAKE_ONE = "make one with `integrator suppliers setup --public-url …`"


def is_sandbox_value(value: str) -> bool:
    lowered = value.strip().lower()
    return lowered.startswith(SANDBOX_PREFIX) or lowered in PLACEHOLDERS


def credential_problem(credential: Credential, value: Any) -> str | None:
    """What is wrong with ``value`` as ``credential``, or None when it may be used."""
    if value is None:
        if not credential.required:
            return None
        hint = f"; {MAKE_ONE}" if credential.ours else ""
        return f"missing: every supplier needs {credential.what}{hint}"
    text = str(value)
    if not text.strip():
        if not credential.required:
            return None
        return f"is empty: set {credential.what}"
    if is_sandbox_value(text):
        return f"is a sandbox or placeholder value, not {credential.what}"
    if credential.ours and len(text) < GENERATED_SECRET_MIN_LENGTH:
        return (
            f"is {len(text)} characters: {credential.what} needs at least "
            f"{GENERATED_SECRET_MIN_LENGTH} random characters; {MAKE_ONE}"
        )
    return None


def supplier_credential_problems(options: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(option key, what is wrong) for each unusable credential of one supplier."""
    for credential in CREDENTIALS:
        problem = credential_problem(credential, options.get(credential.key))
        if problem is not None:
            yield credential.key, problem
