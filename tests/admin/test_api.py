"""The admin JSON API gives the console's data and actions to scripts."""

from __future__ import annotations

from flask import Flask

from integrator.db.database import Database
from integrator.db.models import Job, LineItem
from tests.admin.conftest import Seeded, api_headers


def _get(app: Flask, path: str, status: int = 200) -> dict:  # type: ignore[type-arg]
    response = app.test_client().get(path, headers=api_headers())
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def _post(app: Flask, path: str, status: int = 200, **kwargs: object) -> dict:  # type: ignore[type-arg]
    response = app.test_client().post(path, headers=api_headers(), **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def test_orders_filter_like_the_console(app: Flask, seeded: Seeded) -> None:
    everything = _get(app, "/admin/api/orders")
    assert [o["name"] for o in everything["orders"]] == ["#1001", "#1002"]
    assert (everything["total"], everything["page"], everything["pages"]) == (2, 1, 1)
    assert [o["name"] for o in _get(app, "/admin/api/orders?problem=held")["orders"]] == ["#1001"]
    assert [o["name"] for o in _get(app, "/admin/api/orders?supplier=printify")["orders"]] == [
        "#1002"
    ]
    assert _get(app, "/admin/api/orders?per_page=1&page=2")["orders"][0]["name"] == "#1002"
    assert _get(app, "/admin/api/orders?stage=bogus", 400)["error"].startswith("stage:")


def test_order_detail_has_timeline_shipments_and_delivery_metadata(
    app: Flask, seeded: Seeded
) -> None:
    order = _get(app, f"/admin/api/orders/{seeded.shipped_order}")
    [item] = order["line_items"]
    assert [e["stage"] for e in item["timeline"]] == [
        "routed",
        "submitted",
        "in_production",
        "shipped",
    ]
    assert item["timeline"][0]["duration_seconds"] == 3600.0
    assert item["timeline"][-1]["current"] is True
    assert order["supplier_orders"][0]["supplier_order_id"] == "PFY-998"
    tracking = {s["tracking_number"]: s["tracking_url"] for s in order["shipments"]}
    assert tracking == {"TRK123": "https://track.example.com/TRK123", "TRK-JS": None}
    held = _get(app, f"/admin/api/orders/{seeded.held_order}")
    [delivery] = held["deliveries"]
    assert (
        delivery["topic"] == "orders/paid" and "body" not in delivery and "headers" not in delivery
    )
    text = str(held)
    assert "customer@example.com" not in text and "Secret Lane" not in text
    assert held["created_at"].endswith("Z")
    assert _get(app, "/admin/api/orders/999", 404) == {"error": "no order 999"}


def test_holds_and_actions(app: Flask, seeded: Seeded, db: Database) -> None:
    holds = _get(app, "/admin/api/holds")["items"]
    assert [(h["line_item_id"], h["stage"]) for h in holds] == [
        (seeded.held_item, "on_hold"),
        (seeded.failed_item, "failed"),
    ]
    assert holds[1]["actions"] == {"retry": True, "reroute": True, "release": True, "cancel": True}

    assert _post(app, f"/admin/api/items/{seeded.held_item}/reroute", 400, json={})["error"]
    assert (
        "not configured"
        in _post(
            app, f"/admin/api/items/{seeded.held_item}/reroute", 409, json={"supplier": "nobody"}
        )["error"]
    )
    done = _post(app, f"/admin/api/items/{seeded.held_item}/reroute", json={"supplier": "printify"})
    assert done == {"line_item_id": seeded.held_item, "action": "reroute", "stage": "routed"}
    assert (
        "only held or failed"
        in _post(app, f"/admin/api/items/{seeded.held_item}/release", 409)["error"]
    )
    assert _post(app, f"/admin/api/items/{seeded.failed_item}/cancel")["stage"] == "cancelled"
    assert _post(app, "/admin/api/items/999/retry", 404) == {"error": "no line item 999"}
    with db.read() as session:
        stages = {i.id: i.stage for i in session.query(LineItem)}
    assert stages[seeded.held_item] == "routed" and stages[seeded.failed_item] == "cancelled"
    assert _get(app, "/admin/api/holds")["items"] == []


def test_jobs_and_retrying_a_dead_one(app: Flask, seeded: Seeded, db: Database) -> None:
    listing = _get(app, "/admin/api/jobs")
    assert listing["counts"] == {"dead": 1, "queued": 1}
    assert {j["kind"] for j in listing["jobs"]} == {"supplier.submit", "shopify.mirror"}
    assert [j["id"] for j in _get(app, "/admin/api/jobs?status=dead")["jobs"]] == [seeded.dead_job]
    assert _get(app, "/admin/api/jobs?status=zombie", 400)["error"].startswith("status:")
    assert _post(app, f"/admin/api/jobs/{seeded.dead_job}/retry") == {
        "id": seeded.dead_job,
        "status": "queued",
    }
    assert "only dead jobs" in _post(app, f"/admin/api/jobs/{seeded.dead_job}/retry", 409)["error"]
    assert _post(app, "/admin/api/jobs/999/retry", 404)["error"] == "no job 999"
    with db.read() as session:
        job = session.get(Job, seeded.dead_job)
        assert job is not None and job.status == "queued"


def test_stats(app: Flask, seeded: Seeded) -> None:
    stats = _get(app, "/admin/api/stats")
    [row] = stats["production_times"]
    assert (row["supplier"], row["product_type"], row["fulfillment_count"]) == (
        "printify",
        "Poster",
        1,
    )
    assert row["fulfillment_p50_hours"] == 48.0 and row["shipping_p50_hours"] is None
    assert [a["message"] for a in stats["stuck_items"]] == ["shipped 24 h ago and not delivered"]
    assert _get(app, "/admin/api/stats?since=2999-01-01")["production_times"] == []
    assert _get(app, "/admin/api/stats?since=soon", 400)["error"].startswith("since:")


def test_unknown_paths_and_methods_under_the_api_answer_json(app: Flask) -> None:
    client = app.test_client()
    missing = client.get("/admin/api/nothing-here", headers=api_headers())
    assert missing.status_code == 404 and missing.is_json
    wrong = client.delete("/admin/api/orders", headers=api_headers())
    assert wrong.status_code == 405 and wrong.is_json
    elsewhere = client.get("/no-such-page")
    assert elsewhere.status_code == 404 and not elsewhere.is_json


def test_retrying_a_failed_item_routes_it_again(app: Flask, seeded: Seeded, db: Database) -> None:
    assert _post(app, f"/admin/api/items/{seeded.failed_item}/retry")["stage"] == "routed"
    with db.read() as session:
        item = session.get(LineItem, seeded.failed_item)
        assert item is not None and item.supplier_order_id is not None
