"""The console pages show what the operator needs, escape everything, and the actions work."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from integrator.db.database import Database
from integrator.db.models import ItemEvent, Job, LineItem, Order
from integrator.db.timestamps import utcnow
from integrator.read_models.production import bar_chart
from tests.admin.conftest import SHOP, Seeded

Console = tuple[FlaskClient, str]


def _html(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def _item(db: Database, line_item_id: int) -> LineItem:
    with db.read() as session:
        item = session.get(LineItem, line_item_id)
        assert item is not None
        return item


def test_orders_are_listed_and_filtered(console: Console, seeded: Seeded) -> None:
    client, _ = console
    everything = _html(client, "/admin/orders")
    assert "#1001" in everything and "#1002" in everything
    assert "1 held" in everything and "1 failed" in everything

    def names(query: str) -> set[str]:
        page = _html(client, f"/admin/orders?{query}")
        return {name for name in ("#1001", "#1002") if name in page}

    assert names("stage=on_hold") == {"#1001"}
    assert names("stage=shipped") == {"#1002"}
    assert names("supplier=printify") == {"#1002"}
    assert names("supplier=printful") == {"#1001"}
    assert names("problem=held") == {"#1001"}
    assert names("problem=failed") == {"#1001"}
    assert names("q=1002") == {"#1002"}
    assert names("q=%25") == set()  # a LIKE wildcard is searched for, not used
    today = utcnow().date()
    assert names(f"since={(today - timedelta(days=1)).isoformat()}") == {"#1001"}
    assert names(f"until={(today - timedelta(days=2)).isoformat()}") == {"#1002"}


def test_orders_are_paginated(console: Console, db: Database) -> None:
    client, _ = console
    with db.write() as session:
        for number in range(30):
            session.add(
                Order(shop_domain=SHOP, shopify_order_id=str(9000 + number), name=f"#P{number:02d}")
            )
    first = _html(client, "/admin/orders?per_page=25")
    second = _html(client, "/admin/orders?per_page=25&page=2")
    assert "page 1 of 2" in first and "older →" in first
    assert "page 2 of 2" in second and "← newer" in second
    shown = {f"#P{n:02d}" for n in range(30) if f"#P{n:02d}<" in first + second}
    assert len(shown) == 30


def test_a_bad_filter_is_a_400_that_names_it(console: Console) -> None:
    client, _ = console
    assert "stage: must be one of" in _html(client, "/admin/orders?stage=nonsense", 400)
    assert "since:" in _html(client, "/admin/orders?since=yesterday", 400)
    assert "page:" in _html(client, "/admin/orders?page=0", 400)


def test_the_order_page_shows_items_timeline_shipments_and_deliveries(
    console: Console, seeded: Seeded
) -> None:
    client, _ = console
    held = _html(client, f"/admin/orders/{seeded.held_order}")
    assert "no rule matched" in held
    assert "sku_suffix" in held  # decoration source
    assert "4 h 0 min" in held or "3 h 59 min" in held  # time spent received → on hold
    assert "so far" in held
    assert "orders/paid" in held and "33 B" in held  # delivery metadata
    assert "customer@example.com" not in held and "Secret Lane" not in held
    assert "<script>alert(1)</script>" not in held
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in held

    shipped = _html(client, f"/admin/orders/{seeded.shipped_order}")
    assert "PFY-998" in shipped  # the supplier's order id
    assert 'href="https://track.example.com/TRK123"' in shipped
    assert "gid://shopify/Fulfillment/42" in shipped
    assert "javascript:" not in shipped and "TRK-JS" in shipped
    assert "wall art" in shipped and "product_type_default" in shipped
    assert "in production" in shipped


def test_an_unknown_order_is_a_404(console: Console) -> None:
    client, _ = console
    assert "no order 999" in _html(client, "/admin/orders/999", 404)


def test_holds_list_reasons_and_offer_actions(console: Console, seeded: Seeded) -> None:
    client, _ = console
    page = _html(client, "/admin/holds")
    assert "no rule matched" in page and "supplier rejected the file" in page
    assert f"/admin/items/{seeded.failed_item}/retry" in page
    assert (
        f"/admin/items/{seeded.held_item}/retry" not in page
    )  # a held item has no supplier to retry
    for supplier in ("printful", "printify", "gelato", "prodigi"):
        assert f'<option value="{supplier}"' in page


def test_rerouting_a_held_item_moves_it_on_and_records_it(
    app: Flask, console: Console, seeded: Seeded, db: Database
) -> None:
    client, csrf = console
    response = client.post(
        f"/admin/items/{seeded.held_item}/reroute",
        data={
            "csrf_token": csrf,
            "supplier": "printify",
            "next": f"/admin/orders/{seeded.held_order}",
        },
    )
    assert response.status_code == 302
    assert response.location == f"/admin/orders/{seeded.held_order}"
    item = _item(db, seeded.held_item)
    assert (item.stage, item.supplier) == ("routed", "printify")
    page = _html(client, response.location)
    assert "reroute done, now routed" in page
    with db.read() as session:
        jobs = (
            session.query(Job).filter(Job.kind == "supplier.submit", Job.status == "queued").count()
        )
        sources = [
            e.source for e in session.query(ItemEvent).filter(ItemEvent.line_item_id == item.id)
        ]
    assert jobs == 1
    assert "operator" in sources


def test_an_action_that_is_not_allowed_says_why(
    console: Console, seeded: Seeded, db: Database
) -> None:
    client, csrf = console
    response = client.post(f"/admin/items/{seeded.held_item}/retry", data={"csrf_token": csrf})
    assert response.status_code == 302
    assert "only failed items" in _html(client, "/admin/holds")
    assert _item(db, seeded.held_item).stage == "on_hold"
    response = client.post(
        f"/admin/items/{seeded.held_item}/reroute", data={"csrf_token": csrf, "supplier": "nobody"}
    )
    assert "not configured" in _html(client, "/admin/holds")


def test_cancel_and_unknown_items(console: Console, seeded: Seeded, db: Database) -> None:
    client, csrf = console
    client.post(f"/admin/items/{seeded.failed_item}/cancel", data={"csrf_token": csrf})
    assert _item(db, seeded.failed_item).stage == "cancelled"
    assert client.post("/admin/items/999/cancel", data={"csrf_token": csrf}).status_code == 404
    assert (
        client.post(
            f"/admin/items/{seeded.held_item}/explode", data={"csrf_token": csrf}
        ).status_code
        == 404
    )


def test_a_redirect_after_an_action_stays_in_the_console(console: Console, seeded: Seeded) -> None:
    client, csrf = console
    response = client.post(
        f"/admin/items/{seeded.failed_item}/cancel",
        data={"csrf_token": csrf, "next": "https://evil.example/"},
    )
    assert response.location == "/admin/holds"


def test_jobs_page_lists_and_retries_dead_jobs(
    console: Console, seeded: Seeded, db: Database
) -> None:
    client, csrf = console
    page = _html(client, "/admin/jobs")
    assert "supplier.submit" in page and "HTTP 500" in page and "shopify.mirror" in page
    assert "shopify.mirror" not in _html(client, "/admin/jobs?status=dead")
    assert (
        client.post(f"/admin/jobs/{seeded.dead_job}/retry", data={"csrf_token": csrf}).status_code
        == 302
    )
    with db.read() as session:
        job = session.get(Job, seeded.dead_job)
        assert job is not None and (job.status, job.attempts) == ("queued", 0)
    client.post(f"/admin/jobs/{seeded.queued_job}/retry", data={"csrf_token": csrf})
    assert "only dead jobs" in _html(client, "/admin/jobs")
    assert "status: must be one of" in _html(client, "/admin/jobs?status=nope", 400)


def test_production_page_draws_p50_and_p90_bars_and_stuck_items(
    console: Console, seeded: Seeded
) -> None:
    client, _ = console
    page = _html(client, "/admin/production")
    assert page.count("<svg") == 1  # fulfillment; nothing delivered yet, so no shipping chart
    assert "No finished items yet." in page
    assert 'class="p50"' in page and 'class="p90"' in page
    assert "printify · Poster" in page
    assert "2 d 0 h / 2 d 0 h" in page  # paid 72 h ago, shipped 24 h ago
    assert ">0 d</text>" in page and ">2 d</text>" in page  # the axis reads in days
    assert "shipped 24 h ago and not delivered" in page


def test_every_page_renders_on_an_empty_database(console: Console) -> None:
    client, _ = console
    for path in ("/admin/orders", "/admin/holds", "/admin/jobs", "/admin/production"):
        assert 'class="empty"' in _html(client, path)
    assert client.get("/admin/").location == "/admin/orders"


def test_bar_chart_scales_every_bar_to_a_round_axis() -> None:
    hour = 3600
    chart = bar_chart(
        "t",
        [
            ("a · Tee", 4, 10 * hour, 30 * hour, 0),
            ("b · Mug", 2, 55 * hour, 80 * hour, 0),
            ("c · Hat", 0, None, None, 0),
        ],
    )
    assert [bar.label for bar in chart.bars] == ["a · Tee", "b · Mug"]  # rows without figures drop
    assert [label for _x, label in chart.ticks] == ["0 d", "1 d", "2 d", "3 d", "4 d"]
    for bar in chart.bars:
        assert 0 < bar.p50_width <= bar.p90_width <= chart.plot_width
    assert chart.bars[1].p90_width == chart.plot_width * 80 / 96


def test_the_order_page_shows_the_shops_mode_and_our_answers_to_its_requests(
    console: Console, seeded: Seeded, db: Database
) -> None:
    from integrator.db.models import FulfillmentRequestAnswer
    from integrator.pipeline.shop_settings import remember_mode

    client, _ = console
    before = _html(client, f"/admin/orders/{seeded.held_order}")
    remember_mode(db, SHOP, "fulfillment-service", location_id="gid://shopify/Location/9")
    with db.write() as session:
        session.add_all(
            [
                FulfillmentRequestAnswer(
                    shop_domain=SHOP,
                    shopify_order_id="5001",
                    fulfillment_order_id="gid://shopify/FulfillmentOrder/1",
                    kind="fulfillment",
                    accepted=True,
                    message="Accepted; made by printful: Logo tee",
                ),
                FulfillmentRequestAnswer(
                    shop_domain=SHOP,
                    shopify_order_id="5001",
                    fulfillment_order_id="gid://shopify/FulfillmentOrder/1",
                    kind="cancellation",
                    accepted=False,
                    message="Production has started, cannot cancel: Logo tee at printful: in_production",
                ),
            ]
        )
    after = _html(client, f"/admin/orders/{seeded.held_order}")

    assert "merchant-managed" in before and "requests" not in before
    assert "fulfillment-service" in after
    assert "Accepted; made by printful: Logo tee" in after
    assert "rejected" in after and "Production has started, cannot cancel" in after
