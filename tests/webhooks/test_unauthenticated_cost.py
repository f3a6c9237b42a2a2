"""Issue 11 point 2: nothing unauthenticated costs more than the signature check.

* an unsigned body is never parsed (not as JSON, not for logging): the HMAC is checked first;
* a signed body that cannot be parsed within limits (nesting, number length) is a 400;
* metrics labels take only known values, whatever the headers say.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY, generate_latest

from integrator.bootstrap import Container
from integrator.db.database import Database
from webhooks.app import create_app

from .test_shopify_receiver import URL, assert_nothing_stored, headers_for


@pytest.fixture
def client(db: Database, make_container: Any) -> FlaskClient:
    """The receiver with the default body limit (1 MiB), so that big bodies reach the HMAC."""
    container: Container = make_container(db, WEBHOOK_MAX_BYTES="1048576")
    return create_app(container.settings, container=container).test_client()


@pytest.fixture
def json_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every ``json.loads`` call while a request runs (sizes of what was parsed)."""
    calls: list[int] = []
    real = json.loads

    def counting(text: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(text))
        return real(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    return calls


def forged(body: bytes, topic: str = "orders/paid") -> dict[str, str]:
    headers = headers_for(body, topic)
    headers["X-Shopify-Hmac-Sha256"] = headers_for(b"another body")["X-Shopify-Hmac-Sha256"]
    return headers


BIG_JSON = json.dumps({"line_items": [{"id": n, "title": "x" * 40} for n in range(15_000)]})
assert 900_000 < len(BIG_JSON) < 1_048_576


@pytest.mark.parametrize(
    "body",
    [BIG_JSON.encode(), b"[" * 100_000, b'{"a": ' * 50_000, b"\xff" * 1000],
    ids=["1MB-json", "100k-brackets", "50k-objects", "binary"],
)
def test_an_unsigned_body_is_401_without_being_parsed(
    client: FlaskClient, db: Database, json_parses: list[int], body: bytes
) -> None:
    response = client.post(URL, data=body, headers=forged(body))
    parsed_while_answering = list(json_parses)
    assert response.status_code == 401
    assert response.get_json() == {"error": "bad_signature"}
    assert parsed_while_answering == []
    assert_nothing_stored(db)


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000, "too_deeply_nested"),
        (b"[" * 5_000 + b"]" * 5_000, "too_deeply_nested"),
        (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "too_deeply_nested"),
        (b'{"id": ' + b"9" * 5_000 + b"}", "malformed_json"),
        (b'{"price": NaN}', "malformed_json"),
        (b'{"price": -Infinity}', "malformed_json"),
    ],
    ids=["100k-brackets", "5k-deep-array", "5k-deep-object", "5000-digits", "NaN", "Infinity"],
)
def test_a_signed_body_beyond_the_parse_limits_is_400(
    client: FlaskClient, db: Database, body: bytes, reason: str
) -> None:
    response = client.post(URL, data=body, headers=headers_for(body))
    assert (response.status_code, response.get_json()) == (400, {"error": reason})
    assert_nothing_stored(db)


def test_a_signed_body_within_the_limits_is_stored(client: FlaskClient, db: Database) -> None:
    deep = json.loads(nested(100))
    body = json.dumps({"id": 5001, "big": int("9" * 4_000), "deep": deep}).encode()
    response = client.post(URL, data=body, headers=headers_for(body))
    assert response.status_code == 200


def _metrics_text() -> str:
    return generate_latest(REGISTRY).decode()


def test_unknown_topics_are_one_metrics_label_however_many_arrive(
    client: FlaskClient, db: Database
) -> None:
    before = _metrics_text()
    forged_topics = [f"x/{uuid.uuid4().hex}" + "t" * 2000 for _ in range(40)]
    signed_topics = [f"y/{uuid.uuid4().hex}" for _ in range(40)]
    for topic in forged_topics:
        assert client.post(URL, data=b"{}", headers=forged(b"{}", topic)).status_code == 401
    body = json.dumps({"id": 1}).encode()
    for topic in signed_topics:  # stored (for the operator), but not a label each
        assert client.post(URL, data=body, headers=headers_for(body, topic)).status_code == 200
    after = _metrics_text()
    assert not any(topic[:34] in after for topic in forged_topics + signed_topics)
    assert 'topic="other"' in after
    assert len(after) - len(before) < 2_000  # at most a few new series, never one per topic
