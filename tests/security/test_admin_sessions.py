"""Issue 11, point 4: the console's sessions and the admin API's door.

* the cookie signing key is random and kept by the server, not derived from ADMIN_TOKEN;
* sign-out and a changed ADMIN_TOKEN revoke every earlier cookie;
* Secure cookies and HSTS when PUBLIC_URL is https;
* bearer failures are throttled like sign-in, per real client behind TRUSTED_PROXIES, with
  successes never counted, and the count is shared by every web process;
* CR/LF in the sign-in ``next`` is a 400; ``/app`` redirects are built from PUBLIC_URL.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from integrator.bootstrap import Container, bootstrap
from integrator.db.database import Database
from integrator.db.models import AdminConsoleState, RateLimitCounter
from integrator.settings import load_settings
from tests.admin.conftest import CONFIG_DIR, TOKEN, csrf_from
from tests.credentials import ENCRYPTION_KEY
from webhooks.app import create_app

OTHER_TOKEN = "another-admin-token-0123456789-abcdefghij"
PUBLIC = "https://pod.example.com"
# how the console's key was derived from ADMIN_TOKEN before (HMAC(token, label))
OLD_LABEL = b"integrator admin console session v1"

AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(db: Database, database_url: str) -> Iterator[AppFactory]:
    """An app (one web process) on this test's database, with settings on top of a base."""
    made: list[Container] = []

    def make(**env: str) -> Flask:
        settings = load_settings(
            {
                "DATABASE_URL": database_url,
                "INTEGRATOR_CONFIG_DIR": str(CONFIG_DIR),
                "ADMIN_TOKEN": TOKEN,
                "ENCRYPTION_KEY": ENCRYPTION_KEY,
                **env,
            }
        )
        container = bootstrap(settings, db=db)
        made.append(container)
        app = create_app(container=container)
        app.testing = True
        return app

    yield make


def sign_in(client: FlaskClient, token: str = TOKEN, **request: object) -> int:
    page = client.get("/admin/sign-in", **request)  # type: ignore[arg-type]
    csrf = csrf_from(page.get_data(as_text=True))
    answer = client.post(
        "/admin/sign-in",
        data={"token": token, "csrf_token": csrf},
        **request,  # type: ignore[arg-type]
    )
    return answer.status_code


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("integrator_admin", path="/admin")
    assert cookie is not None
    return cookie.value


def with_cookie(app: Flask, value: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie("integrator_admin", value, path="/admin")
    return client


# --- the signing key ---------------------------------------------------------------------------


def test_the_cookie_anyone_gets_is_not_an_oracle_for_the_admin_token(
    make_app: AppFactory, db: Database
) -> None:
    client = make_app().test_client()
    client.get("/admin/sign-in")  # hands a signed cookie (with a CSRF token) to anyone
    cookie = session_cookie(client)

    derived = hmac.new(TOKEN.encode(), OLD_LABEL, hashlib.sha256).hexdigest()
    interface = SecureCookieSessionInterface()
    for digest in (hashlib.sha1, hashlib.sha256):
        serializer = URLSafeTimedSerializer(
            derived,
            salt=interface.salt,
            signer_kwargs={"key_derivation": "hmac", "digest_method": digest},
        )
        with pytest.raises(BadSignature):
            serializer.loads(cookie)
    with db.read() as session:
        row = session.get(AdminConsoleState, 1)
        assert row is not None
        assert row.signing_key_encrypted.startswith(b"gAAAAA")  # Fernet: encrypted at rest
        assert TOKEN not in row.token_fingerprint


def test_the_key_is_shared_through_the_database_not_through_the_token(
    make_app: AppFactory,
) -> None:
    first, second = make_app(), make_app()  # two processes, one database
    client = first.test_client()
    assert sign_in(client) == 302
    assert with_cookie(second, session_cookie(client)).get("/admin/orders").status_code == 200


# --- revocation ---------------------------------------------------------------------------------


def test_sign_out_revokes_every_earlier_cookie(make_app: AppFactory) -> None:
    app = make_app()
    mine, theirs = app.test_client(), app.test_client()
    assert sign_in(mine) == 302 and sign_in(theirs) == 302
    kept = session_cookie(mine)
    csrf = csrf_from(mine.get("/admin/orders").get_data(as_text=True))

    assert mine.post("/admin/sign-out", data={"csrf_token": csrf}).status_code == 302

    assert with_cookie(app, kept).get("/admin/orders").status_code == 302  # replayed: no
    assert theirs.get("/admin/orders").status_code == 302  # every session ended
    assert sign_in(mine) == 302 and mine.get("/admin/orders").status_code == 200


def test_a_new_admin_token_revokes_every_earlier_cookie_in_every_process(
    make_app: AppFactory,
) -> None:
    old = make_app()
    client = old.test_client()
    assert sign_in(client) == 302
    cookie = session_cookie(client)

    new = make_app(ADMIN_TOKEN=OTHER_TOKEN)  # a process restarted with the new token
    new_client = new.test_client()
    assert sign_in(new_client, OTHER_TOKEN) == 302

    assert with_cookie(new, cookie).get("/admin/orders").status_code == 302
    assert with_cookie(old, cookie).get("/admin/orders").status_code == 302  # the old process too
    assert new_client.get("/admin/orders").status_code == 200
    assert sign_in(old.test_client()) == 503  # a process with a replaced token signs no one in


# --- https ----------------------------------------------------------------------------------


def test_secure_cookies_and_hsts_when_public_url_is_https(make_app: AppFactory) -> None:
    app = make_app(PUBLIC_URL=PUBLIC)
    client = app.test_client()
    page = client.get("/admin/sign-in")
    csrf = csrf_from(page.get_data(as_text=True))
    signed = client.post("/admin/sign-in", data={"token": TOKEN, "csrf_token": csrf})

    assert "Secure" in signed.headers["Set-Cookie"].split("; ")
    for response in (page, signed, client.get("/healthz"), client.post("/webhooks/shopify")):
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_and_no_secure_flag_over_plain_http(make_app: AppFactory) -> None:
    client = make_app(PUBLIC_URL="http://127.0.0.1:8000").test_client()
    page = client.get("/admin/sign-in")
    assert "Strict-Transport-Security" not in page.headers
    assert "Secure" not in page.headers["Set-Cookie"].split("; ")


# --- the throttle ---------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api(client: FlaskClient, token: str, address: str = "127.0.0.1", **headers: str) -> int:
    answer = client.get(
        "/admin/api/holds",
        headers={**bearer(token), **headers},
        environ_base={"REMOTE_ADDR": address},
    )
    return answer.status_code


def test_bearer_failures_are_throttled_like_sign_in(make_app: AppFactory) -> None:
    client = make_app().test_client()

    assert [api(client, f"guess-{n}") for n in range(10)] == [401] * 10
    blocked = client.get("/admin/api/holds", headers=bearer(TOKEN))

    assert blocked.status_code == 429  # the right token too, until the window ends
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert api(client, TOKEN, address="203.0.113.9") == 200  # another client is not blocked


def test_sign_in_and_bearer_failures_share_one_budget(make_app: AppFactory) -> None:
    client = make_app().test_client()
    assert [api(client, f"guess-{n}") for n in range(5)] == [401] * 5
    assert [sign_in(client, f"guess-{n}") for n in range(5)] == [401] * 5
    assert sign_in(client) == 429
    assert api(client, TOKEN) == 429


def test_successes_are_never_counted(make_app: AppFactory) -> None:
    client = make_app().test_client()
    assert [sign_in(client) for _ in range(15)] == [302] * 15
    assert [api(client, TOKEN) for _ in range(15)] == [200] * 15
    assert [api(client, f"guess-{n}") for n in range(9)] == [401] * 9
    assert sign_in(client) == 302  # nine failures and thirty successes: not over ten


def test_the_count_is_shared_by_every_web_process(make_app: AppFactory, db: Database) -> None:
    first, second = make_app().test_client(), make_app().test_client()
    assert [api(first, f"guess-{n}") for n in range(5)] == [401] * 5
    assert [api(second, f"guess-{n}") for n in range(5)] == [401] * 5
    assert api(first, TOKEN) == 429 and api(second, TOKEN) == 429
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(RateLimitCounter)) == 1


def test_a_configured_limits_storage_is_used_instead_of_the_database(
    make_app: AppFactory, db: Database
) -> None:
    client = make_app(RATE_LIMIT_STORAGE_URL="memory://").test_client()
    assert [api(client, f"guess-{n}") for n in range(10)] == [401] * 10
    assert api(client, TOKEN) == 429
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(RateLimitCounter)) == 0


def test_behind_a_trusted_proxy_each_real_client_has_its_own_count(make_app: AppFactory) -> None:
    client = make_app(TRUSTED_PROXIES="1").test_client()
    proxy = "10.0.0.1"

    def through_proxy(token: str, real_client: str) -> int:
        return api(client, token, address=proxy, **{"X-Forwarded-For": real_client})

    assert [through_proxy(f"guess-{n}", "198.51.100.7") for n in range(10)] == [401] * 10
    assert through_proxy(TOKEN, "198.51.100.7") == 429
    assert through_proxy(TOKEN, "198.51.100.8") == 200  # not one bucket for everyone
    # a client cannot escape its count by adding its own X-Forwarded-For entries
    assert through_proxy(TOKEN, "192.0.2.1, 198.51.100.7") == 429


def test_without_trusted_proxies_x_forwarded_for_is_ignored(make_app: AppFactory) -> None:
    client = make_app().test_client()
    assert [
        api(client, f"guess-{n}", **{"X-Forwarded-For": f"192.0.2.{n}"}) for n in range(10)
    ] == [401] * 10
    assert api(client, TOKEN, **{"X-Forwarded-For": "192.0.2.99"}) == 429


def test_ipv6_clients_are_counted_per_64(make_app: AppFactory) -> None:
    client = make_app().test_client()
    statuses = [api(client, f"guess-{n}", address=f"2001:db8:1:2::{n + 1:x}") for n in range(10)]
    assert statuses == [401] * 10
    assert api(client, TOKEN, address="2001:db8:1:2:ffff::1") == 429
    assert api(client, TOKEN, address="2001:db8:1:3::1") == 200


# --- next and /app ----------------------------------------------------------------------------


@pytest.mark.parametrize("next_page", ["/admin/orders\r\nSet-Cookie: x=1", "/admin/\n", "/admin\r"])
def test_control_characters_in_next_are_a_400(make_app: AppFactory, next_page: str) -> None:
    client = make_app().test_client()
    page = client.get("/admin/sign-in")
    csrf = csrf_from(page.get_data(as_text=True))

    shown = client.get("/admin/sign-in", query_string={"next": next_page})
    posted = client.post(
        "/admin/sign-in", data={"token": TOKEN, "csrf_token": csrf, "next": next_page}
    )

    assert (shown.status_code, posted.status_code) == (400, 400)
    assert "Set-Cookie: x" not in str(posted.headers)


def test_app_redirects_are_built_from_public_url_never_from_host(make_app: AppFactory) -> None:
    app = make_app(
        PUBLIC_URL=PUBLIC,
        SHOPIFY_CLIENT_ID="test-client-id",
        SHOPIFY_CLIENT_SECRET="test-client-secret",
    )
    answer = app.test_client().get(
        "/app?shop=acme.myshopify.com&host=YWRtaW4&embedded=1",
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(f"{PUBLIC}/app/patch-id-token?")
    assert "evil.example" not in answer.headers["Location"]


def test_real_web_processes_share_one_count_per_real_client(database_url: str) -> None:
    """Three gunicorn processes (`integrator serve --workers 3`, the web role's own server)
    behind one trusted proxy, a new connection per request so that every process takes some:
    one client still gets exactly ten failures, and another client behind the same proxy is
    not blocked (the server passes X-Forwarded-For on to the app, which trusts one hop)."""
    from bench.chaos.security_checks import ADMIN_TOKEN, bearer_statuses, web_processes

    def client(address: str) -> dict[str, str]:
        return {"X-Forwarded-For": address}

    with web_processes(database_url, workers=3, TRUSTED_PROXIES="1") as port:
        wrong = bearer_statuses(port, [f"guess-{n}" for n in range(30)], **client("198.51.100.7"))
        right = bearer_statuses(port, [ADMIN_TOKEN], **client("198.51.100.7"))
        elsewhere = bearer_statuses(port, [ADMIN_TOKEN], **client("198.51.100.8"))

    assert wrong == {401: 10, 429: 20}
    assert (right, elsewhere) == ({429: 1}, {200: 1})
