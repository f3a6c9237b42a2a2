"""The operator console and the admin API are closed without the admin token.

Every route under /admin is tried with every method it takes, with no credentials and with a
wrong bearer token: none may answer 2xx, except the sign-in page and static files (a GET of
the sign-in form reveals nothing). A GET of a console page may redirect to the sign-in page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from bench.chaos.common import start_stack
from integrator.sandbox.stack import Stack

OPEN_ENDPOINTS = ("sign_in", "static")
TOKEN = "the-real-admin-token-0123456789-abcdef"  # 32 characters or more


@pytest.fixture
def admin_stack(database_url: str) -> Iterator[Stack]:
    stack = start_stack(database_url, extra_env={"ADMIN_TOKEN": TOKEN})
    yield stack
    stack.close()


def admin_app(stack: Stack) -> Flask:
    """The app as create_app builds it: the console and the admin API are part of it (the
    first test below also checks that it found routes of both)."""
    return stack.app


def concrete(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?[^>]+>", "1", rule)


def test_every_admin_route_refuses_requests_without_the_token(admin_stack: Stack) -> None:
    app = admin_app(admin_stack)
    client = app.test_client()
    checked = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint.endswith(OPEN_ENDPOINTS):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for headers in ({}, {"Authorization": "Bearer wrong-token"}):
                # each try from its own client: failures are throttled per client
                address = f"10.2.{len(checked) // 200}.{len(checked) % 200 + 1}"
                answer = client.open(
                    concrete(rule.rule),
                    method=method,
                    headers=headers,
                    environ_base={"REMOTE_ADDR": address},
                )
                location = answer.headers.get("Location", "")
                checked.append((method, rule.rule, answer.status_code))
                assert not 200 <= answer.status_code < 300, (method, rule.rule, answer.status_code)
                if 300 <= answer.status_code < 400:
                    assert "/admin/sign-in" in location, (method, rule.rule, location)
                else:
                    assert answer.status_code in (401, 403), (method, rule.rule, answer.status_code)
    assert any(path.startswith("/admin/api") for _m, path, _s in checked)
    assert any(not path.startswith("/admin/api") for _m, path, _s in checked)


def test_the_admin_api_answers_with_the_right_token(admin_stack: Stack) -> None:
    client = admin_app(admin_stack).test_client()

    refused = client.get("/admin/api/orders")
    allowed = client.get("/admin/api/orders", headers={"Authorization": f"Bearer {TOKEN}"})

    assert refused.status_code == 401
    assert allowed.status_code == 200  # the check above refuses for the right reason
