"""Every captured or documented payload of ``../shared/reference/suppliers/samples/`` (copied
byte for byte into tests/fixtures/suppliers) is explained with exact events by
``test_explain.py`` or ``test_explain_gelato_printify.py``; the two that belong to suppliers
we do not integrate (Apliiq, SPOD) are refused, with one line, under every adapter's name."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from integrator.cli.main import cli
from integrator.suppliers.registry import ADAPTERS
from tests.suppliers.conftest import FIXTURES
from tests.suppliers.test_explain import EXPECTED as PRINTFUL_PRODIGI
from tests.suppliers.test_explain_gelato_printify import EXPECTED as GELATO_PRINTIFY

# ls ../shared/reference/suppliers/samples/ (2026-11-27)
SHARED_SAMPLES = {
    "apliiq_fulfillment.docs.json",
    "gelato_order_delivery_estimate_updated.docs.json",
    "gelato_order_item_status_updated.docs.json",
    "gelato_order_item_tracking_code_updated.docs.json",
    "gelato_order_status_updated.docs.json",
    "printful_v1_order_canceled.full.json",
    "printful_v1_order_canceled.trimmed.json",
    "printful_v1_order_failed.full.json",
    "printful_v1_order_failed.trimmed.json",
    "printful_v1_order_put_hold.full.json",
    "printful_v1_order_put_hold.trimmed.json",
    "printful_v1_order_updated.full.json",
    "printful_v1_order_updated.trimmed.json",
    "printful_v1_package_shipped.full.json",
    "printful_v1_package_shipped.trimmed.json",
    "printful_v2_order_created.docs.json",
    "printful_v2_shipment_sent.schema.json",
    "printify_order_shipment_created.3p_representative.json",
    "prodigi_callback_stage_changed_inprogress.docs.json",
    "spod_shipment_sent.envelope.docs.json",
}
OTHER_SUPPLIERS = {"apliiq_fulfillment.docs.json", "spod_shipment_sent.envelope.docs.json"}


def test_every_shared_sample_is_vendored_and_explained_with_exact_events() -> None:
    vendored = {p.name for p in FIXTURES.iterdir()}
    explained = {sample for _, sample in (*PRINTFUL_PRODIGI, *GELATO_PRINTIFY)}

    assert vendored >= SHARED_SAMPLES
    assert explained >= SHARED_SAMPLES - OTHER_SUPPLIERS
    assert not OTHER_SUPPLIERS & explained


@pytest.mark.parametrize("supplier", sorted(ADAPTERS))
@pytest.mark.parametrize("sample", sorted(OTHER_SUPPLIERS))
def test_another_suppliers_sample_is_refused_by_every_adapter(supplier: str, sample: str) -> None:
    path = FIXTURES / sample

    result = CliRunner().invoke(cli, ["suppliers", "explain", supplier, str(path), "--json"])

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: {path}: not a {supplier} payload: neither a {supplier} callback nor a "
        f"{supplier} order as its API returns it"
    ]
