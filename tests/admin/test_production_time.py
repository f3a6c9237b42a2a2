"""Production time tells the truth at every scale: whole seconds across clocks, durations
below zero flagged as clock problems (never drawn or counted), units a person reads, in the
console, the admin API and ``integrator stats``."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from integrator.cli.main import cli
from integrator.db.database import Database
from integrator.db.models import ItemEvent, LineItem, Order
from integrator.read_models.production_times import StageTimes, production_times
from tests.admin.conftest import SHOP, api_headers

PAID = datetime(2026, 11, 20, 10, 0, 0, 600_000)  # Shopify's time, with a fraction


def seed_item(
    db: Database,
    number: int,
    supplier: str,
    product_type: str,
    shipped: datetime | None,
    delivered: datetime | None = None,
    paid: datetime = PAID,
) -> None:
    with db.write() as session:
        order = Order(
            shop_domain=SHOP,
            shopify_order_id=str(9000 + number),
            name=f"#{9000 + number}",
            financial_status="paid",
            paid_at=paid,
            created_at=paid,
        )
        item = LineItem(
            order=order,
            shopify_line_item_id=str(8000 + number),
            title=product_type,
            product_type=product_type,
            stage="delivered" if delivered else "shipped",
            reached_stage="delivered" if delivered else "shipped",
            disposition="route",
            supplier=supplier,
        )
        session.add_all([order, item])
        for stage, at in (("shipped", shipped), ("delivered", delivered)):
            if at is not None:
                session.add(
                    ItemEvent(
                        line_item=item,
                        stage=stage,
                        source=f"supplier:{supplier}",
                        dedupe_key=f"{stage}-{number}",
                        occurred_at=at,
                    )
                )


def second(offset: float) -> datetime:
    """``offset`` seconds after the paid time's whole second, as a supplier dates it."""
    return PAID.replace(microsecond=0) + timedelta(seconds=offset)


@pytest.fixture
def mixed(db: Database) -> Database:
    """Gelato: one canvas shipped in the paid second (a supplier time without fraction), one
    shipped 2 days later, one dated before it was paid; delivered once before it shipped.
    Printful: hats shipped after 5 and 7 hours and delivered 3 days later."""
    seed_item(db, 1, "gelato", "Canvas", shipped=second(0))
    seed_item(db, 2, "gelato", "Canvas", shipped=second(2 * 86400))
    seed_item(db, 3, "gelato", "Canvas", shipped=second(-3600))
    seed_item(db, 4, "gelato", "Canvas", shipped=second(60), delivered=second(30))
    seed_item(db, 5, "printful", "Hat", shipped=second(5 * 3600), delivered=second(77 * 3600))
    seed_item(db, 6, "printful", "Hat", shipped=second(7 * 3600), delivered=second(79 * 3600))
    return db


def test_figures_are_whole_seconds_and_backward_times_are_only_counted(mixed: Database) -> None:
    assert production_times(mixed) == [
        StageTimes(
            supplier="gelato",
            product_type="Canvas",
            fulfillment_count=3,  # 0 s, 60 s, 2 d; the one dated an hour before payment is out
            fulfillment_p50_seconds=60,
            fulfillment_p90_seconds=2 * 86400,
            shipping_count=0,
            shipping_p50_seconds=None,
            shipping_p90_seconds=None,
            fulfillment_clock_problems=1,
            shipping_clock_problems=1,
        ),
        StageTimes(
            supplier="printful",
            product_type="Hat",
            fulfillment_count=2,
            fulfillment_p50_seconds=5 * 3600,
            fulfillment_p90_seconds=7 * 3600,
            shipping_count=2,
            shipping_p50_seconds=72 * 3600,
            shipping_p90_seconds=72 * 3600,
            fulfillment_clock_problems=0,
            shipping_clock_problems=0,
        ),
    ]


def test_an_item_shipped_in_the_second_it_was_paid_took_zero_seconds(db: Database) -> None:
    # paid at 10:00:00.600 by Shopify; the supplier says 10:00:00 (it drops the fraction)
    seed_item(db, 1, "gelato", "Poster", shipped=second(0))

    (row,) = production_times(db)

    assert (row.fulfillment_count, row.fulfillment_p50_seconds) == (1, 0)
    assert row.fulfillment_clock_problems == 0


def test_a_supplier_with_only_backward_times_shows_its_problem_and_no_figure(
    db: Database,
) -> None:
    seed_item(db, 1, "prodigi", "Mug", shipped=second(-5))

    (row,) = production_times(db)

    assert (row.supplier, row.fulfillment_count, row.fulfillment_p50_seconds) == (
        "prodigi",
        0,
        None,
    )
    assert row.fulfillment_clock_problems == 1


def test_the_admin_api_keeps_hours_and_adds_the_clock_problems(mixed: Database, app: Flask) -> None:
    answer = app.test_client().get("/admin/api/stats", headers=api_headers())

    assert answer.status_code == 200
    gelato, printful = answer.get_json()["production_times"]
    assert gelato == {
        "supplier": "gelato",
        "product_type": "Canvas",
        "fulfillment_count": 3,
        "fulfillment_p50_hours": 60 / 3600,
        "fulfillment_p90_hours": 48.0,
        "fulfillment_clock_problems": 1,
        "shipping_count": 0,
        "shipping_p50_hours": None,
        "shipping_p90_hours": None,
        "shipping_clock_problems": 1,
    }
    assert (printful["fulfillment_p50_hours"], printful["shipping_p90_hours"]) == (5.0, 72.0)


def page(console: tuple[FlaskClient, str]) -> str:
    client, _csrf = console
    answer = client.get("/admin/production")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_page_reads_in_people_units_and_flags_backward_times(
    mixed: Database, console: tuple[FlaskClient, str]
) -> None:
    html = page(console)

    fulfillment, shipping = (part.split("</figure>")[0] for part in html.split("<figure")[1:3])
    # fulfillment: 2 d is the largest figure, so the axis reads in days
    assert re.findall(r'class="tick"[^>]*>([^<]+)<', fulfillment) == [
        "0 d",
        "1 d",
        "2 d",
        "3 d",
        "4 d",
    ]
    assert ">1 min 0 s / 2 d 0 h</text>" in fulfillment
    assert ">5 h 0 min / 7 h 0 min</text>" in fulfillment
    assert "1 item left out: a later stage is dated before the earlier one" in fulfillment
    # shipping: one gelato item delivered before it shipped is flagged, and drawn nowhere
    assert "1 item left out" in shipping
    assert "gelato" not in shipping.split("<svg")[1]
    assert ">3 d 0 h / 3 d 0 h</text>" in shipping
    # nothing on the page is a negative or a float of hours
    text = re.sub(r"<[^>]+>", " ", html)
    assert not re.search(r"-\s?\d|\d\.\d+ h|e-\d", text)
    figures = html.split("<h2>Figures</h2>")[1].split("</table>")[0]
    assert re.findall(r"<td>([^<]*)</td>", figures.split("gelato")[1])[:7] == [
        "Canvas",
        "3",
        "1 min 0 s",
        "2 d 0 h",
        "0",
        "—",
        "—",
    ]
    assert '<td class="clock-problems">2</td>' in figures


def test_the_page_of_a_demo_measured_in_seconds_reads_in_seconds(
    db: Database, console: tuple[FlaskClient, str]
) -> None:
    seed_item(db, 1, "gelato", "Canvas", shipped=second(0), delivered=second(1))
    seed_item(db, 2, "printify", "Phone Case", shipped=second(1), delivered=second(1))

    html = page(console)

    fulfillment = html.split("<figure")[1].split("</figure>")[0]
    assert re.findall(r'class="tick"[^>]*>([^<]+)<', fulfillment) == [
        "0 s",
        "1 s",
        "2 s",
        "3 s",
        "4 s",
    ]
    assert ">0 s / 0 s</text>" in fulfillment and ">1 s / 1 s</text>" in fulfillment
    assert "left out" not in html


@pytest.fixture
def runner(database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_JSON", "false")
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps cells to the terminal's width
    return CliRunner()


def test_integrator_stats_reads_in_people_units_and_names_the_clock_problems(
    mixed: Database, runner: CliRunner
) -> None:
    shown = runner.invoke(cli, ["stats", "--days", "36500"])

    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.output.splitlines() if "│" in line]
    cells = [[cell.strip() for cell in row.split("│")[1:-1]] for row in rows]
    assert ["gelato", "Canvas", "3", "1 min 0 s", "2 d 0 h", "0", "—", "—", "2"] in cells
    assert ["printful", "Hat", "2", "5 h 0 min", "7 h 0 min", "2", "3 d 0 h", "3 d 0 h", "0"] in (
        cells
    )
    assert "2 item(s) left out: a later stage is dated before the earlier one" in shown.output
    assert not re.search(r"-\d|e-\d|\d\.\d", shown.output.split("2 item(s)")[0])


def test_integrator_stats_json_is_the_api_row(mixed: Database, runner: CliRunner) -> None:
    shown = runner.invoke(cli, ["stats", "--days", "36500", "--json"])

    assert shown.exit_code == 0, shown.output
    gelato, printful = json.loads(shown.output)
    assert (gelato["fulfillment_clock_problems"], gelato["shipping_clock_problems"]) == (1, 1)
    assert (gelato["fulfillment_count"], gelato["fulfillment_p90_hours"]) == (3, 48.0)
    assert printful["shipping_p50_hours"] == 72.0


def test_the_order_timeline_keeps_a_supplier_time_without_fraction_in_its_place(
    db: Database, console: tuple[FlaskClient, str]
) -> None:
    """We dated production 10:00:00.300; the supplier dated the shipment 10:00:00 (no
    fraction) and we recorded it after: shipped comes after in production, not before it."""
    seed_item(db, 1, "gelato", "Canvas", shipped=None)
    with db.write() as session:
        item = session.query(LineItem).one()
        session.add_all(
            [
                ItemEvent(
                    line_item=item,
                    stage="in_production",
                    source="supplier:gelato",
                    dedupe_key="made",
                    occurred_at=second(0).replace(microsecond=300_000),
                ),
                ItemEvent(
                    line_item=item,
                    stage="shipped",
                    source="supplier:gelato",
                    dedupe_key="sent",
                    occurred_at=second(0),
                ),
            ]
        )
        order_id = item.order_id
    client, _csrf = console

    html = client.get(f"/admin/orders/{order_id}").get_data(as_text=True)

    rows = re.findall(r'<tr class="event[^"]*">(.*?)</tr>', html, re.DOTALL)
    stages = [re.sub(r"<[^>]+>", " ", row).split() for row in rows]
    order = [words[3] for words in stages]  # date, time, UTC, then the stage's first word
    assert order == ["in", "shipped"], stages
