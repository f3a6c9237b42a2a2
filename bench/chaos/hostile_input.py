"""Hostile input: a hypothesis fuzz run of the webhook endpoints and the routing config loader.

Webhooks (Shopify and supplier callbacks, through the real Flask app and database): forged,
missing and garbage signatures, truncated and non-JSON bodies, huge bodies, wrong content
types, unknown topics, shops and suppliers, absurd field values. After every request:

* no 5xx answer other than 503;
* a request that was not genuinely signed is never answered 2xx;
* a rejected request (non-2xx) stores nothing: the inbox and the job queue are unchanged.

Genuinely signed deliveries with absurd bodies are accepted (they are stored raw, as Shopify
sent them); the worker then processes them, and the run counts what became of those jobs.

Config loader: ``parse_store_config`` on mutations of the real config/routing.yaml and
catalog.yaml (a random leaf or branch replaced by an absurd value) and ``load_store_config``
on damaged YAML text → a StoreConfig or a ConfigError naming the problems, nothing else.

    python bench/chaos/hostile_input.py [--orders EXAMPLES] [--database-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import copy  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import yaml  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.chaos.common import (  # noqa: E402
    Figures,
    command_line,
    database_kind,
    scratch_url,
    start_stack,
)
from integrator.db.models import Job, WebhookDelivery  # noqa: E402
from integrator.sandbox.shopify import LineSpec, sign  # noqa: E402
from integrator.sandbox.stack import CLIENT_SECRET, SHOP, Stack  # noqa: E402
from integrator.store_config.loading import load_store_config, parse_store_config  # noqa: E402
from integrator.store_config.problems import ConfigError  # noqa: E402

TOPICS = (
    "orders/paid",
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "app/uninstalled",
    "customers/redact",
    "shop/redact",
    "customers/data_request",
)
SUPPLIERS = ("printful", "printify", "gelato", "prodigi")

absurd_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=50),
    st.text(alphabet="\x00\u202e\ufeff\U0001f600'\"<>;${}%", max_size=30),
    st.sampled_from(["${UNSET_VARIABLE}", "${X:-", "0" * 400, "-1", "NaN", "*", "../../etc"]),
)
absurd_values = st.recursive(
    absurd_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=12), children, max_size=4),
    ),
    max_leaves=12,
)


# --- webhooks ------------------------------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    answers: Counter[int] = field(default_factory=Counter)
    accepted_genuine: int = 0
    violations: list[str] = field(default_factory=list)

    def violation(self, text: str) -> None:
        if len(self.violations) < 20:
            self.violations.append(text)


def inbox_size(stack: Stack) -> tuple[int, int]:
    with stack.db.read() as session:
        deliveries = session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0
        jobs = session.scalar(select(func.count()).select_from(Job)) or 0
    return int(deliveries), int(jobs)


def check_answer(stack: Stack, tally: Tally, case: str, genuine: bool, send: Any) -> None:
    before = inbox_size(stack)
    status = int(send())
    after = inbox_size(stack)
    tally.requests += 1
    tally.answers[status] += 1
    if status >= 500 and status != 503:
        tally.violation(f"{case}: answered {status}")
    if 200 <= status < 300:
        if not genuine:
            tally.violation(f"{case}: forged delivery accepted with {status}")
        else:
            tally.accepted_genuine += 1
    elif after != before:
        tally.violation(f"{case}: rejected with {status} but stored {before} -> {after}")


@st.composite
def shopify_requests(
    draw: st.DrawFn, valid_body: bytes, non_ascii_signatures: bool = True
) -> dict[str, Any]:
    body_kind = draw(
        st.sampled_from(
            ["valid", "truncated", "not_json", "binary", "json_array", "absurd", "huge", "empty"]
        )
    )
    if body_kind == "valid":
        body = valid_body
    elif body_kind == "truncated":
        body = valid_body[: draw(st.integers(0, max(len(valid_body) - 1, 0)))]
    elif body_kind == "not_json":
        body = draw(st.text(max_size=200)).encode()
    elif body_kind == "binary":
        body = draw(st.binary(max_size=300))
    elif body_kind == "json_array":
        body = json.dumps(draw(st.lists(absurd_scalars, max_size=5))).encode()
    elif body_kind == "absurd":
        document = json.loads(valid_body)
        for key in draw(st.lists(st.sampled_from(sorted(document)), max_size=5)):
            document[key] = draw(absurd_values)
        body = json.dumps(document, default=str).encode()
    elif body_kind == "huge":
        body = b'{"id": 1, "pad": "' + b"x" * 1_100_000 + b'"}'
    else:
        body = b""
    signature = draw(st.sampled_from(["genuine", "forged", "missing", "garbage", "other_body"]))
    headers = {
        "Content-Type": draw(
            st.sampled_from(
                ["application/json", "text/plain", "application/x-www-form-urlencoded", "", "*/*"]
            )
        ),
        "X-Shopify-Topic": draw(st.one_of(st.sampled_from(TOPICS), st.text(max_size=40))),
        "X-Shopify-Shop-Domain": draw(
            st.one_of(
                st.just(SHOP),
                st.sampled_from(["other.myshopify.com", "evil.example", ""]),
                st.text(max_size=60),
            )
        ),
        "X-Shopify-Webhook-Id": draw(st.one_of(st.uuids().map(str), st.text(max_size=300))),
    }
    if signature == "genuine":
        headers["X-Shopify-Hmac-Sha256"] = sign(body, CLIENT_SECRET)
    elif signature == "forged":
        headers["X-Shopify-Hmac-Sha256"] = sign(body, "not-the-secret")
    elif signature == "garbage":
        alphabet = st.characters(max_codepoint=255 if non_ascii_signatures else 127)
        headers["X-Shopify-Hmac-Sha256"] = draw(st.text(alphabet=alphabet, max_size=80))
    elif signature == "other_body":
        headers["X-Shopify-Hmac-Sha256"] = sign(valid_body + b" ", CLIENT_SECRET)
    if draw(st.integers(0, 3)) == 0:
        headers.pop(draw(st.sampled_from(sorted(headers))), None)
    # header values must be latin-1 for HTTP; anything else the client cannot even send
    headers = {
        k: v.encode("latin-1", "replace").decode("latin-1").replace("\r", "").replace("\n", "")
        for k, v in headers.items()
    }
    genuine = signature == "genuine"
    return {
        "body": body,
        "headers": headers,
        "genuine": genuine,
        "case": f"shopify/{body_kind}/{signature}",
    }


@st.composite
def supplier_requests(draw: st.DrawFn, samples: dict[str, bytes]) -> dict[str, Any]:
    name = draw(st.one_of(st.sampled_from(SUPPLIERS), st.sampled_from(["unknown", "..", "%00"])))
    base = samples.get(name, b'{"event": "x"}')
    body_kind = draw(st.sampled_from(["valid", "truncated", "binary", "absurd", "huge"]))
    if body_kind == "valid":
        body = base
    elif body_kind == "truncated":
        body = base[: draw(st.integers(0, max(len(base) - 1, 0)))]
    elif body_kind == "binary":
        body = draw(st.binary(max_size=300))
    elif body_kind == "absurd":
        body = json.dumps(draw(absurd_values), default=str).encode()
    else:
        body = b'{"pad": "' + b"y" * 1_100_000 + b'"}'
    credential = draw(st.sampled_from(["genuine", "forged", "missing"]))
    return {
        "name": name,
        "body": body,
        "credential": credential,
        "case": f"supplier/{name}/{body_kind}/{credential}",
    }


def supplier_samples(stack: Stack) -> dict[str, bytes]:
    """One genuine callback body per supplier, from the sandbox suppliers themselves."""
    stack.place_order(
        [
            LineSpec(sku, 1)
            for sku in ("TEE-BLK-M-DTG", "CASE-IPHONE15-CLEAR", "CANVAS-30X40", "MUG-11OZ-WHT")
        ]
    )
    samples: dict[str, bytes] = {}
    for name, sandbox in stack.suppliers.items():
        saved, sandbox.callback_url = sandbox.callback_url, None
        try:
            sandbox_order = {"id": "1", "status": "pending"}
            payloads = []
            try:
                payloads = sandbox.callbacks_for(
                    copy.deepcopy(sandbox_order), "in_production", None
                )
            except Exception:  # noqa: BLE001 - a sandbox that needs a real order: no sample
                payloads = []
            if payloads:
                samples[name] = json.dumps(payloads[0]).encode()
        finally:
            sandbox.callback_url = saved
    return samples


def fuzz_webhooks(stack: Stack, examples: int, *, non_ascii_signatures: bool = True) -> Tally:
    """Run ``examples`` hostile requests at each endpoint and tally what they were answered."""
    tally = Tally()
    client = stack.app.test_client()
    order = stack.place_order([LineSpec("TEE-BLK-M-DTG", 1)])
    valid_body = json.dumps(stack.shop.webhook_payload(order["id"])).encode()
    samples = supplier_samples(stack)

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(request=shopify_requests(valid_body, non_ascii_signatures))
    def shopify_case(request: dict[str, Any]) -> None:
        check_answer(
            stack,
            tally,
            request["case"],
            request["genuine"],
            lambda: (
                client.post(
                    "/webhooks/shopify", data=request["body"], headers=request["headers"]
                ).status_code
            ),
        )

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(request=supplier_requests(samples))
    def supplier_case(request: dict[str, Any]) -> None:
        name, body = request["name"], request["body"]
        query: dict[str, str] = {}
        headers = {"Content-Type": "application/json"}
        sandbox = stack.suppliers.get(name)
        if request["credential"] == "genuine" and sandbox is not None:
            query["token"] = sandbox.callback_secret
            headers.update(sandbox.sign(body))
        elif request["credential"] == "forged" and sandbox is not None:
            query["token"] = "forged-token"
            saved = sandbox.callback_secret
            sandbox.callback_secret = "forged-secret"
            try:
                headers.update(sandbox.sign(body))
            finally:
                sandbox.callback_secret = saved
        genuine = request["credential"] == "genuine" and sandbox is not None
        check_answer(
            stack,
            tally,
            request["case"],
            genuine,
            lambda: (
                client.post(
                    f"/webhooks/suppliers/{name}", data=body, headers=headers, query_string=query
                ).status_code
            ),
        )

    shopify_case()
    supplier_case()
    return tally


# --- the config loader ---------------------------------------------------------------------


def real_config(config_dir: Path = Path("config")) -> tuple[Any, Any]:
    routing = yaml.safe_load((config_dir / "routing.yaml").read_text())
    catalog = yaml.safe_load((config_dir / "catalog.yaml").read_text())
    return routing, catalog


def paths_of(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found.extend(paths_of(value, (*prefix, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.extend(paths_of(value, (*prefix, index)))
    return found


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    changed = copy.deepcopy(document)
    holder = changed
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return changed


@dataclass
class ConfigTally:
    documents: int = 0
    accepted: int = 0
    refused: int = 0
    crashes: Counter[str] = field(default_factory=Counter)


def try_config(tally: ConfigTally, load: Any) -> None:
    tally.documents += 1
    try:
        load()
    except ConfigError as error:
        tally.refused += 1
        if not error.problems:
            tally.crashes["ConfigError without any problem named"] += 1
    except Exception as error:  # noqa: BLE001 - anything else is the finding
        tally.crashes[f"{type(error).__name__}: {str(error).splitlines()[0][:80]}"] += 1
    else:
        tally.accepted += 1


def fuzz_config(examples: int) -> ConfigTally:
    tally = ConfigTally()
    routing, catalog = real_config()
    routing_paths, catalog_paths = paths_of(routing), paths_of(catalog)
    routing_text = (Path("config") / "routing.yaml").read_text()
    environ = {"PRINTFUL_API_KEY": "k"}

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        which=st.sampled_from(["routing", "catalog"]),
        index=st.integers(min_value=0),
        value=absurd_values,
    )
    def mutated(which: str, index: int, value: Any) -> None:
        if which == "routing":
            document = replaced(routing, routing_paths[index % len(routing_paths)], value)
            try_config(tally, lambda: parse_store_config(document, catalog, environ))
        else:
            document = replaced(catalog, catalog_paths[index % len(catalog_paths)], value)
            try_config(tally, lambda: parse_store_config(routing, document, environ))

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        cut=st.integers(min_value=0, max_value=len(routing_text)),
        insert=st.text(alphabet=" \t\n:-[]{}&*!|>'\"%@`#,?\x00\ufeff", max_size=8),
    )
    def damaged_text(cut: int, insert: str) -> None:
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder)
            (target / "routing.yaml").write_text(routing_text[:cut] + insert + routing_text[cut:])
            (target / "catalog.yaml").write_text((Path("config") / "catalog.yaml").read_text())
            try_config(tally, lambda: load_store_config(target, environ))

    mutated()
    damaged_text()
    return tally


# --- the run -------------------------------------------------------------------------------


def run(database_url: str | None, examples: int) -> Figures:
    with scratch_url(database_url) as url:
        stack = start_stack(url)
        try:
            started = time.monotonic()
            webhooks = fuzz_webhooks(stack, examples)
            configs = fuzz_config(examples)
            ran = stack.drain(max_jobs=10 * examples)
            with stack.db.read() as session:
                jobs = dict(
                    (str(status), int(count))
                    for status, count in session.execute(
                        select(Job.status, func.count()).group_by(Job.status)
                    ).all()
                )
                job_errors = Counter(
                    str(error).split(":")[0][:60]
                    for error in session.scalars(
                        select(Job.last_error).where(Job.last_error.is_not(None))
                    )
                )
            return Figures(
                scenario="hostile input",
                database=database_kind(url),
                orders=webhooks.requests,
                duplicates=0,
                lost=0,
                stuck=0,
                retries=0,
                duration_seconds=time.monotonic() - started,
                extra={
                    "requests": webhooks.requests,
                    "answers": dict(webhooks.answers),
                    "genuine_deliveries_accepted": webhooks.accepted_genuine,
                    "violations": webhooks.violations,
                    "config_documents": configs.documents,
                    "config_accepted": configs.accepted,
                    "config_refused_with_problems": configs.refused,
                    "config_crashes": dict(configs.crashes),
                    "jobs_run_after_fuzz": ran,
                    "jobs": jobs,
                    "job_errors": dict(job_errors),
                },
            )
        finally:
            stack.close()


if __name__ == "__main__":
    command_line(__doc__ or "", 300, run)
