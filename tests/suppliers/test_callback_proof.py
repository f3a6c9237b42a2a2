"""What proves a supplier callback genuine, one rule per supplier (docs/adding-a-supplier.md,
"What proves a callback"). Signatures are known-answer vectors computed outside our code with
openssl over the sample files' exact bytes, never with an adapter's signing code:

    openssl dgst -sha256 -hmac "$KEY" < tests/fixtures/suppliers/<sample>
    openssl dgst -sha256 -mac HMAC -macopt hexkey:$HEX < tests/fixtures/suppliers/<sample>
"""

from __future__ import annotations

from typing import Any

import pytest

from integrator.suppliers.base import SupplierAdapter
from integrator.suppliers.registry import build_adapter
from tests.suppliers.conftest import fixture_bytes

TOKEN = "s3cret-callback-token"
GOOD_QUERY = {"token": TOKEN}
# the secret_key example of Printful's v2 document (WebhookCreated); not even hex
PF_DOC_SECRET = (
    "a01376f30766acf7f706cc84beb57b79f9779e4a3e79d5519b3a9069c2156807098aw1d2abb43d356e03a46e71"
    "eeb9ab4519b3774d993abde8a3fabcebeb30fe"
)
PF_HEX_SECRET = "0123456789abcdef0123456789abcdef"
PF_BODY = "printful_v2_shipment_sent.schema.json"
# openssl dgst -sha256 -hmac "$PF_DOC_SECRET" < printful_v2_shipment_sent.schema.json
PF_SIG_DOC_SECRET = "142a7ea3c364c0675ec259e6cd0e6d3cc26b9cb0daac499a354d7b8102e1207b"
# the same body, key = the text "0123456789abcdef0123456789abcdef"
PF_SIG_HEX_AS_TEXT = "2a637927178a10790c954ff0630cc15d55ca55e24d02758af9bd247097e516ab"
# the same body, key = the 16 bytes hex-decoded (-macopt hexkey:0123456789abcdef...)
PF_SIG_HEX_DECODED = "02c9a1b3f2bc0be5bffa40ca6d7ed4bb18fae373191293f562faa798a79a3268"
PY_BODY = "printify_order_shipment_created.3p_representative.json"
# openssl dgst -sha256 -hmac s3cret-callback-token < printify_order_shipment_created...json
PY_SIG = "2c96ca60b595f1a2b7c7058ea61ced694cccc94708fd5e02d9f94507d72807d3"


def adapter(kind: str, **options: Any) -> SupplierAdapter:
    return build_adapter(kind, kind, None, {"api_key": "k", "callback_secret": TOKEN, **options})


# --- Printful v1: unsigned, the token is the proof ------------------------------------------


def test_printful_v1_token_is_the_proof() -> None:
    printful = adapter("printful")
    body = fixture_bytes("printful_v1_package_shipped.full.json")

    assert printful.verify_callback({}, body, GOOD_QUERY)
    assert not printful.verify_callback({}, body, {})
    assert not printful.verify_callback({}, body, {"token": "guess"})


@pytest.mark.parametrize("signature", ["garbage", PF_SIG_DOC_SECRET, "", "sha256=00"])
def test_printful_v1_token_is_not_refused_for_a_signature_header_we_cannot_check(
    signature: str,
) -> None:
    body = fixture_bytes("printful_v1_package_shipped.full.json")

    assert adapter("printful").verify_callback(
        {"X-Pf-Webhook-Signature": signature}, body, GOOD_QUERY)
    assert not adapter("printful").verify_callback(
        {"X-Pf-Webhook-Signature": signature}, body, {})


# --- Printful v2: the signature is the proof, required --------------------------------------


def test_printful_v2_signature_under_the_documents_example_secret() -> None:
    printful = adapter("printful", webhook_secret=PF_DOC_SECRET)
    body = fixture_bytes(PF_BODY)

    assert printful.verify_callback({"x-pf-webhook-signature": PF_SIG_DOC_SECRET}, body, {})
    assert printful.verify_callback(
        {"X-PF-Webhook-Signature": PF_SIG_DOC_SECRET.upper()}, body, {})


@pytest.mark.parametrize("signature", [PF_SIG_HEX_AS_TEXT, PF_SIG_HEX_DECODED])
def test_printful_v2_key_as_text_or_hex_decoded_both_prove_the_secret(signature: str) -> None:
    printful = adapter("printful", webhook_secret=PF_HEX_SECRET)

    assert printful.verify_callback({"x-pf-webhook-signature": signature},
                                    fixture_bytes(PF_BODY), {})


@pytest.mark.parametrize(
    ("headers", "body_change"),
    [
        ({}, b""),  # missing signature
        ({"x-pf-webhook-signature": ""}, b""),
        ({"x-pf-webhook-signature": PF_SIG_DOC_SECRET}, b" "),  # tampered body
        ({"x-pf-webhook-signature": PF_SIG_HEX_AS_TEXT}, b""),  # another secret's signature
        ({"x-pf-webhook-signature": "sha256=" + PF_SIG_DOC_SECRET}, b""),  # not the documented form
    ],
)
def test_printful_v2_wrong_or_missing_signature_is_refused_even_with_the_token(
    headers: dict[str, str], body_change: bytes
) -> None:
    printful = adapter("printful", webhook_secret=PF_DOC_SECRET)

    assert not printful.verify_callback(headers, fixture_bytes(PF_BODY) + body_change, GOOD_QUERY)


# --- Printify: a signature in the documented form decides, else the token --------------------


def test_printify_documented_signature_proves_without_the_token() -> None:
    printify = adapter("printify")

    assert printify.verify_callback({"X-Pfy-Signature": f"sha256={PY_SIG}"},
                                    fixture_bytes(PY_BODY), {})


@pytest.mark.parametrize(
    "signature",
    [f"sha256={PF_SIG_DOC_SECRET}", f"sha256={PY_SIG[:-1]}0", f"sha256={'0' * 64}"],
)
def test_printify_wrong_signature_is_refused_even_with_the_token(signature: str) -> None:
    printify = adapter("printify")

    assert not printify.verify_callback({"X-Pfy-Signature": signature},
                                        fixture_bytes(PY_BODY), GOOD_QUERY)
    # and the right signature over a tampered body
    assert not printify.verify_callback({"X-Pfy-Signature": f"sha256={PY_SIG}"},
                                        fixture_bytes(PY_BODY) + b" ", GOOD_QUERY)


@pytest.mark.parametrize(
    "signature", [PY_SIG, "sha1=abc", "t=1,v1=abcdef", "c2lnbmF0dXJl", "sha256=nothex"])
def test_printify_token_is_not_refused_for_a_signature_in_a_form_we_cannot_confirm(
    signature: str,
) -> None:
    printify = adapter("printify")
    body = fixture_bytes(PY_BODY)

    assert printify.verify_callback({"X-Pfy-Signature": signature}, body, GOOD_QUERY)
    assert not printify.verify_callback({"X-Pfy-Signature": signature}, body, {})


# --- Gelato and Prodigi: nothing documented, the token is the proof --------------------------


@pytest.mark.parametrize(
    ("kind", "sample"),
    [("gelato", "gelato_order_status_updated.docs.json"),
     ("prodigi", "prodigi_callback_stage_changed_inprogress.docs.json")],
)
def test_token_in_the_url_or_our_header_is_the_proof(kind: str, sample: str) -> None:
    supplier = adapter(kind)
    body = fixture_bytes(sample)

    assert supplier.verify_callback({}, body, GOOD_QUERY)
    assert supplier.verify_callback({"X-Integrator-Token": TOKEN}, body, {})
    # a header we know nothing about neither helps nor hurts
    assert supplier.verify_callback({"X-Signature": "whatever"}, body, GOOD_QUERY)
    assert not supplier.verify_callback({"X-Signature": "whatever"}, body, {})
    assert not supplier.verify_callback({}, body, {"token": TOKEN[:-1]})
    assert not supplier.verify_callback({"X-Integrator-Token": ""}, body, {"token": ""})


def test_no_secret_configured_accepts_nothing() -> None:
    for kind in ("printful", "printify", "gelato", "prodigi"):
        supplier = build_adapter(kind, kind, None, {"api_key": "k"})
        assert not supplier.verify_callback({}, b"{}", {"token": ""})
        assert not supplier.verify_callback({"X-Integrator-Token": ""}, b"{}", {})
