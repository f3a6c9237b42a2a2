"""Who gets in: every console route needs a signed-in session, every admin API route the
bearer token, every console POST this session's CSRF token. Routes are read from the app's
URL map, so a route added later is covered without touching these tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, url_for
from werkzeug.routing import Rule

from integrator.bootstrap import Container
from integrator.db.database import Database
from integrator.db.models import LineItem
from tests.admin.conftest import (
    TOKEN,
    Seeded,
    api_headers,
    csrf_from,
    make_app,
    make_container,
    signed_in,
)
from webhooks.admin.console import PUBLIC_ENDPOINTS

ARGUMENT_VALUES = {"action": "cancel", "filename": "console.css"}


def _rules(app: Flask, prefix: str) -> list[Rule]:
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith(prefix)]
    assert rules, f"no {prefix} routes registered"
    return rules


def _calls(app: Flask, rule: Rule, ids: int) -> Iterator[tuple[str, str]]:
    values = {name: ARGUMENT_VALUES.get(name, ids) for name in rule.arguments}
    with app.test_request_context():
        url = url_for(rule.endpoint, **values)
    for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
        yield method, url


def _stage(db: Database, line_item_id: int) -> str:
    with db.read() as session:
        item = session.get(LineItem, line_item_id)
        assert item is not None
        return item.stage


def test_the_console_has_only_two_public_endpoints(app: Flask) -> None:
    console = {rule.endpoint for rule in _rules(app, "admin.console.")}
    assert {"admin.console.sign_in", "admin.console.static"} == PUBLIC_ENDPOINTS
    assert console > PUBLIC_ENDPOINTS
    assert len(console) >= 10


def test_every_console_route_refuses_a_request_without_a_session(
    app: Flask, seeded: Seeded
) -> None:
    client = app.test_client()
    checked = 0
    for rule in _rules(app, "admin.console."):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method, url in _calls(app, rule, seeded.held_item):
            response = client.open(url, method=method, data={"supplier": "printify"})
            if method == "GET":
                assert response.status_code == 302, url
                assert response.location.startswith("/admin/sign-in"), url
            else:
                assert response.status_code == 403, (method, url)
            checked += 1
    assert checked >= 9
    assert _stage(app.extensions["integrator"].db, seeded.held_item) == "on_hold"


def test_a_forged_session_cookie_is_not_a_session(app: Flask, seeded: Seeded) -> None:
    client = app.test_client()
    client.set_cookie(
        "integrator_admin", "eyJhZG1pbl9zaWduZWRfaW4iOnRydWV9.forged.sig", path="/admin"
    )
    assert client.get("/admin/orders").status_code == 302


def test_every_admin_api_route_refuses_a_request_without_the_token(
    app: Flask, seeded: Seeded
) -> None:
    client = app.test_client()
    refusals = [
        {},
        api_headers("wrong-token"),
        api_headers(TOKEN + "x"),
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer "},
    ]
    checked = 0
    for rule in _rules(app, "admin.api."):
        for method, url in _calls(app, rule, seeded.held_item):
            for number, headers in enumerate(refusals):
                response = client.open(
                    url,
                    method=method,
                    headers=headers,
                    json={"supplier": "printify"},
                    # each try from its own client: failures are throttled per client
                    environ_base={"REMOTE_ADDR": f"10.1.{checked}.{number + 1}"},
                )
                assert response.status_code == 401, (method, url, headers)
                assert response.headers["WWW-Authenticate"] == "Bearer"
                assert response.get_json() == {"error": "a valid bearer token is required"}
            checked += 1
    assert checked == 10
    assert _stage(app.extensions["integrator"].db, seeded.held_item) == "on_hold"


def test_the_api_does_not_take_the_console_session(app: Flask, seeded: Seeded) -> None:
    client, _csrf = signed_in(app)
    assert client.get("/admin/api/orders").status_code == 401


def test_every_console_post_refuses_a_missing_or_wrong_csrf_token(
    app: Flask, seeded: Seeded
) -> None:
    client, csrf = signed_in(app)
    checked = 0
    for rule in _rules(app, "admin.console."):
        for method, url in _calls(app, rule, seeded.held_item):
            if method != "POST":
                continue
            for form in (
                {},
                {"csrf_token": ""},
                {"csrf_token": csrf + "x"},
                {"csrf_token": "x" * 43},
            ):
                body = {"supplier": "printify", "token": TOKEN, **form}
                response = client.post(url, data=body)
                assert response.status_code == 403, (url, form)
                assert "CSRF" in response.get_data(as_text=True)
            checked += 1
    assert checked >= 4  # sign-in, sign-out, item actions, job retry
    assert _stage(app.extensions["integrator"].db, seeded.held_item) == "on_hold"
    assert client.get("/admin/orders").status_code == 200  # still signed in: sign-out refused


def test_the_csrf_token_of_another_session_is_refused(app: Flask, seeded: Seeded) -> None:
    client, _ = signed_in(app)
    _, other_csrf = signed_in(app)
    response = client.post(
        f"/admin/items/{seeded.held_item}/cancel", data={"csrf_token": other_csrf}
    )
    assert response.status_code == 403


def test_with_no_admin_token_everything_is_refused(
    db: Database, database_url: str, seeded: Seeded
) -> None:
    app = make_app(make_container(db, database_url, admin_token=""))
    client = app.test_client()
    for prefix in ("admin.console.", "admin.api."):
        for rule in _rules(app, prefix):
            for method, url in _calls(app, rule, seeded.held_item):
                for headers in ({}, api_headers(""), api_headers("anything")):
                    response = client.open(url, method=method, headers=headers, data={"token": ""})
                    assert response.status_code == 403, (method, url)
                    assert "ADMIN_TOKEN" in response.get_data(as_text=True)


def test_sign_in_is_rate_limited_per_client(app: Flask) -> None:
    client = app.test_client()
    csrf = csrf_from(client.get("/admin/sign-in").get_data(as_text=True))
    statuses = [
        client.post("/admin/sign-in", data={"token": f"guess-{n}", "csrf_token": csrf}).status_code
        for n in range(10)
    ]
    assert statuses == [401] * 10
    blocked = client.post("/admin/sign-in", data={"token": TOKEN, "csrf_token": csrf})
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60  # what is left of the minute
    other = app.test_client()
    other_csrf = csrf_from(
        other.get("/admin/sign-in", environ_base={"REMOTE_ADDR": "10.9.9.9"}).get_data(as_text=True)
    )
    allowed = other.post(
        "/admin/sign-in",
        data={"token": TOKEN, "csrf_token": other_csrf},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert allowed.status_code == 302


def test_session_cookie_is_http_only_same_site_and_scoped_to_admin(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/admin/sign-in")
    csrf = csrf_from(page.get_data(as_text=True))
    response = client.post("/admin/sign-in", data={"token": TOKEN, "csrf_token": csrf})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("integrator_admin=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/admin" in cookie
    assert TOKEN not in cookie


def test_a_session_holds_in_another_process_with_the_same_token_only(
    db: Database, database_url: str, container: Container
) -> None:
    first = make_app(container)
    client, _ = signed_in(first)
    cookie = client.get_cookie("integrator_admin", path="/admin")
    assert cookie is not None

    same = make_app(make_container(db, database_url)).test_client()
    same.set_cookie("integrator_admin", cookie.value, path="/admin")
    assert same.get("/admin/orders").status_code == 200

    rotated = make_app(
        make_container(db, database_url, admin_token="a-new-admin-token-0123456789-abcdefgh")
    ).test_client()
    rotated.set_cookie("integrator_admin", cookie.value, path="/admin")
    assert rotated.get("/admin/orders").status_code == 302


def test_sign_in_goes_back_to_the_console_page_asked_for_and_nowhere_else(app: Flask) -> None:
    for wanted, landing in [
        ("/admin/jobs?status=dead", "/admin/jobs?status=dead"),
        ("https://evil.example/", "/admin/orders"),
        ("//evil.example/admin", "/admin/orders"),
        ("/admin\\..\\evil", "/admin/orders"),
    ]:
        client = app.test_client()
        csrf = csrf_from(client.get("/admin/sign-in").get_data(as_text=True))
        response = client.post(
            "/admin/sign-in", data={"token": TOKEN, "csrf_token": csrf, "next": wanted}
        )
        assert response.location == landing, wanted


def test_sign_out_ends_the_session(app: Flask) -> None:
    client, csrf = signed_in(app)
    assert client.post("/admin/sign-out", data={"csrf_token": csrf}).status_code == 302
    assert client.get("/admin/orders").status_code == 302


@pytest.mark.parametrize("path", ["/admin/static/console.css"])
def test_the_stylesheet_is_public_while_the_console_is_on(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 200
    assert b".stage" in response.data
    response.close()


def test_console_pages_forbid_scripts_framing_and_caching(app: Flask, seeded: Seeded) -> None:
    client, _ = signed_in(app)
    response = client.get(f"/admin/orders/{seeded.held_order}")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
