"""``supplier.submit``: send one supplier order, with our deterministic reference.

Read (one short transaction) → adapter call (no transaction open) → record (one transaction).
A crash between the call and the record is safe: the retry sends the same external reference,
and the adapter finds the order the supplier already has instead of creating a second.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrator.bootstrap import Container
from integrator.db.models import LineItem, Order, SupplierOrder
from integrator.db.timestamps import utcnow
from integrator.domain.model import (
    SupplierLine,
    SupplierOrderRequest,
    SupplierOrderResult,
)
from integrator.domain.public_urls import NotPublicUrl, ResolverUnavailable, public_url
from integrator.domain.stages import Stage
from integrator.domain.statuses import OrderStatus, SupplierOrderStatus
from integrator.jobqueue.errors import RetryableJobError, RetryLater, TerminalJobError
from integrator.jobqueue.worker import JobContext
from integrator.pipeline.decisions import reassign
from integrator.pipeline.records import (
    decision_of,
    order_line_from_item,
    recipient_of,
    spec_from_json,
)
from integrator.pipeline.stage_mirror import enqueue_mirror
from integrator.pipeline.supplier_orders import assign_to_supplier_orders
from integrator.pipeline.timeline import move, refresh_order
from integrator.routing.router import next_supplier
from integrator.suppliers.errors import (
    RetryableSupplierError,
    SupplierAuthError,
    SupplierError,
    SupplierRejected,
    SupplierRequestIncomplete,
)

log = logging.getLogger(__name__)

SUBMIT_ATTEMPTS = 8


def ambiguous(error: RetryableSupplierError) -> bool:
    """A read timeout or a 5xx may come after the supplier made the order; a refused
    connection, a 429, our own rate limiter or an open circuit never reached it."""
    return (error.status or 0) >= 500 or str(error).startswith("timeout")


@dataclass(frozen=True)
class Submission:
    supplier_order_id: int
    supplier: str
    shop: str
    request: SupplierOrderRequest
    # an earlier attempt failed ambiguously (timeout, 5xx): the supplier may have the order
    tried: bool = False


def load_submission(container: Container, supplier_order_id: int) -> Submission | None:
    """The request to send, or None when there is nothing (left) to submit.

    The supplier order is locked while its lines are read, as ``ingest.supplier_order_for``
    locks it before adding an item: an item that fails over into it is read here, or goes
    to a supplier order of its own."""
    with container.db.write() as session:
        supplier_order = session.get(SupplierOrder, supplier_order_id, with_for_update=True)
        if supplier_order is None or supplier_order.status != SupplierOrderStatus.PENDING:
            return None
        order = supplier_order.order
        if order.status == OrderStatus.CANCELLED:
            return None
        items = session.scalars(
            select(LineItem).where(
                LineItem.supplier_order_id == supplier_order_id,
                LineItem.stage == Stage.ROUTED.value,
            )
        ).all()
        if not items:
            return None
        lines = tuple(
            SupplierLine(i.shopify_line_item_id, i.quantity, spec_from_json(i.spec), i.title, i.sku)
            for i in items
        )
        request = SupplierOrderRequest(
            external_ref=supplier_order.external_ref,
            shop=order.shop_domain,
            order_id=order.shopify_order_id,
            order_name=order.name,
            recipient=recipient_of(order),
            lines=lines,
            currency=order.currency or "USD",
        )
        return Submission(
            supplier_order_id,
            supplier_order.supplier,
            order.shop_domain,
            request,
            tried=supplier_order.maybe_created,
        )


def record_submitted(
    container: Container, submission: Submission, result: SupplierOrderResult
) -> None:
    with container.db.write() as session:
        supplier_order = session.get(
            SupplierOrder, submission.supplier_order_id, with_for_update=True
        )
        assert supplier_order is not None
        supplier_order.supplier_order_id = result.supplier_order_id
        supplier_order.raw_status = result.raw_status
        supplier_order.status = SupplierOrderStatus.SUBMITTED
        supplier_order.submitted_at = utcnow()
        supplier_order.last_error = None
        supplier_order.create_sent_at = None
        supplier_order.maybe_created = False  # the supplier answered with its order
        supplier_order.request_copy = {
            "external_ref": submission.request.external_ref,
            "lines": [
                {"line_item_id": line.line_item_id, "quantity": line.quantity, "sku": line.sku}
                for line in submission.request.lines
            ],
        }
        submitted = {line.line_item_id for line in submission.request.lines}
        detail = f"{submission.supplier} order {result.supplier_order_id}" + (
            " (already existed: same reference)" if result.already_existed else ""
        )
        items = _items_of(session, submission.supplier_order_id)
        for item in items:
            if item.shopify_line_item_id in submitted:
                move(
                    session,
                    item,
                    Stage.SUBMITTED,
                    source=f"supplier:{submission.supplier}",
                    detail=detail,
                    supplier=submission.supplier,
                    # per supplier order: an item sent again (after a failure, a change in
                    # Shopify, an operator retry) is submitted anew
                    dedupe_key=f"submitted:{submission.supplier_order_id}",
                )
                if result.stage not in (Stage.SUBMITTED, Stage.ROUTED, Stage.RECEIVED):
                    move(
                        session,
                        item,
                        result.stage,
                        source=f"supplier:{submission.supplier}",
                        detail=result.raw_status,
                        supplier=submission.supplier,
                    )
        _own_order_for_late_items(session, container, supplier_order, items, submitted)
        if refresh_order(session, supplier_order.order):
            enqueue_mirror(session, container, supplier_order.order)


def _own_order_for_late_items(
    session: Session,
    container: Container,
    supplier_order: SupplierOrder,
    items: list[LineItem],
    submitted: set[str],
) -> None:
    """Items that joined the supplier order after its lines were read were not sent: they go
    to a supplier order of their own rather than wait on one that will never make them."""
    late = [
        item
        for item in items
        if item.stage == Stage.ROUTED.value and item.shopify_line_item_id not in submitted
    ]
    for item in late:
        item.supplier_order_id = None
    if late:
        assign_to_supplier_orders(session, container, supplier_order.order, late)


def _items_of(session: object, supplier_order_id: int) -> list[LineItem]:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    return list(
        session.scalars(select(LineItem).where(LineItem.supplier_order_id == supplier_order_id))
    )


def fail_over(
    container: Container, submission: Submission, reason: str, *, only_if_all_move: bool = False
) -> int:
    """Move every item of the supplier order to its next supplier, or hold it. Return moved.

    With ``only_if_all_move`` (a transient cause: an open circuit) nothing changes unless every
    item has a next supplier; holding an item for a passing outage would need a person.
    """
    moved = 0
    with container.db.write() as session:
        supplier_order = session.get(
            SupplierOrder, submission.supplier_order_id, with_for_update=True
        )
        assert supplier_order is not None
        order: Order = supplier_order.order
        config = container.config(order.shop_domain)
        items = _items_of(session, submission.supplier_order_id)
        routed = [item for item in items if item.stage == Stage.ROUTED.value]
        decisions = [
            next_supplier(
                decision_of(item), order_line_from_item(item), config, submission.supplier
            )
            for item in routed
        ]
        if only_if_all_move and any(decision.supplier is None for decision in decisions):
            return 0
        supplier_order.status = SupplierOrderStatus.FAILED
        supplier_order.last_error = reason
        for item, decision in zip(routed, decisions, strict=True):
            reassign(
                session, item, decision, source=f"supplier:{submission.supplier}", detail=reason
            )
            moved += decision.supplier is not None
        assign_to_supplier_orders(session, container, order, items)
        refresh_order(session, order)
    return moved


def mark_failed(
    container: Container, submission: Submission, reason: str, *, maybe_created: bool = False
) -> None:
    """``maybe_created``: this attempt's create got no definite answer (the last attempt of a
    job that gives up can be the one the supplier made)."""
    with container.db.write() as session:
        supplier_order = session.get(
            SupplierOrder, submission.supplier_order_id, with_for_update=True
        )
        assert supplier_order is not None
        supplier_order.status = SupplierOrderStatus.FAILED
        # an earlier create that got no answer may have made the order: that stays said until
        # the supplier answers for it, so an operator retry looks it up before routing again
        supplier_order.maybe_created = (
            supplier_order.maybe_created or submission.tried or maybe_created
        )
        supplier_order.last_error = reason
        for item in _items_of(session, submission.supplier_order_id):
            move(
                session,
                item,
                Stage.FAILED,
                source=f"supplier:{submission.supplier}",
                detail=reason,
                supplier=submission.supplier,
            )
        refresh_order(session, supplier_order.order)


def hold_incomplete(container: Container, submission: Submission, reason: str) -> None:
    """Nothing was sent: the order lacks what the supplier requires. Its items wait on hold,
    the reason naming the field, until a person fixes the order and releases them."""
    with container.db.write() as session:
        supplier_order = session.get(
            SupplierOrder, submission.supplier_order_id, with_for_update=True
        )
        assert supplier_order is not None
        supplier_order.status = SupplierOrderStatus.FAILED
        supplier_order.last_error = reason
        for item in _items_of(session, submission.supplier_order_id):
            if item.stage == Stage.ROUTED.value:
                move(
                    session,
                    item,
                    Stage.ON_HOLD,
                    source=f"supplier:{submission.supplier}",
                    detail=f"not sent to {submission.supplier}: {reason}",
                    supplier=submission.supplier,
                )
        refresh_order(session, supplier_order.order)


def note_error(
    container: Container, supplier_order_id: int, reason: str, *, sent: bool = False
) -> None:
    """Keep the reason of a failed attempt; ``sent``: the create may have reached the
    supplier, which may have made the order (else it certainly made nothing, and a retry
    need not wait for it)."""
    with container.db.write() as session:
        supplier_order = session.get(SupplierOrder, supplier_order_id)
        if supplier_order is None:
            return
        if not sent:
            supplier_order.create_sent_at = None
        # once the supplier may have the order, that stays true until it answers for it
        supplier_order.maybe_created = supplier_order.maybe_created or sent
        supplier_order.last_error = reason


def refused_print_file(container: Container, request: SupplierOrderRequest) -> str | None:
    """Why a print file of the order must not reach the supplier (who fetches it), or None.

    Routing checked the text of each URL; here every host is resolved, so a name that points
    at a loopback, private or metadata address (``127.0.0.1.nip.io``, ``foo.lan``) is caught.

    :raises RetryableJobError: the resolver could not answer now.
    """
    for line in request.lines:
        for print_file in line.spec.files:
            try:
                public_url(print_file.url, container.resolve_host)
            except NotPublicUrl as refusal:
                return f"print file of line item {line.line_item_id}: the URL {refusal}"
            except ResolverUnavailable as error:
                raise RetryableJobError(f"cannot resolve a print-file host: {error}") from error
    return None


def claim_create(container: Container, supplier_order_id: int, settle_seconds: float) -> float:
    """Note that a create is being sent now, under the supplier order's row lock; or return
    how long to wait first (seconds > 0) while an earlier create, of this job or another
    (a reconciliation pass re-enqueues pending orders; a dead worker's job is rescued), got
    no definite answer less than ``settle_seconds`` ago: the supplier may still be making
    that order, and a look-up by our reference now would miss it and make a second."""
    with container.db.write() as session:
        supplier_order = session.get(SupplierOrder, supplier_order_id, with_for_update=True)
        assert supplier_order is not None
        now = utcnow()
        sent = supplier_order.create_sent_at
        if sent is not None and settle_seconds > 0:
            left = settle_seconds - (now - sent).total_seconds()
            if left > 0:
                return left
        supplier_order.create_sent_at = now
        return 0.0


def submit(container: Container, context: JobContext) -> str:
    supplier_order_id = int(str(context.payload["supplier_order_id"]))
    submission = load_submission(container, supplier_order_id)
    if submission is None:
        return "nothing_to_submit"
    refusal = refused_print_file(container, submission.request)
    if refusal is not None:
        mark_failed(container, submission, refusal)
        raise TerminalJobError(refusal)
    adapter = container.adapter(submission.supplier, submission.shop)
    # after an ambiguous failure the order may exist at the supplier: wait for the circuit to
    # close and look the reference up, rather than make the item a second time elsewhere
    if not adapter.can_take_work() and not submission.tried:
        if fail_over(
            container,
            submission,
            f"{submission.supplier} circuit open after repeated outages",
            only_if_all_move=True,
        ):
            return "failed_over"
        raise RetryLater(30, f"{submission.supplier} circuit open")
    if not adapter.can_take_work():
        raise RetryLater(30, f"{submission.supplier} circuit open; will look the order up first")
    settle = adapter.create_settle_seconds
    wait = claim_create(container, supplier_order_id, settle)
    if wait > 0:
        raise RetryLater(
            wait, f"{submission.supplier} may still be making the order of an unanswered create"
        )
    try:
        result = adapter.submit(submission.request)
    except RetryableSupplierError as error:
        reason = f"{submission.supplier}: {error}"
        maybe = ambiguous(error)
        if context.job.attempts >= context.job.max_attempts:
            # the last create may be the one that reached the supplier unanswered
            gave_up = f"{reason} (gave up after {context.job.attempts} attempts)"
            mark_failed(container, submission, gave_up, maybe_created=maybe)
            raise TerminalJobError(reason) from error
        note_error(container, supplier_order_id, reason, sent=maybe)
        # after an unanswered create, come back once the supplier would have finished it
        retry_after = max(error.retry_after or 0.0, settle if maybe else 0.0)
        raise RetryableJobError(reason, retry_after=retry_after or None) from error
    except SupplierRequestIncomplete as error:
        hold_incomplete(container, submission, error.reason)
        return "held_incomplete"
    except SupplierRejected as error:
        reason = f"{submission.supplier} rejected the order: {error.reason} ({error.code})"
        if error.reroutable or adapter.rejection_is_reroutable(error):
            fail_over(container, submission, reason)
            return "failed_over"
        mark_failed(container, submission, reason)
        raise TerminalJobError(reason) from error
    except SupplierAuthError as error:
        note_error(
            container, supplier_order_id, f"{submission.supplier} credentials refused: {error}"
        )
        raise RetryableJobError(f"{submission.supplier} auth: {error}", retry_after=300) from error
    except SupplierError as error:
        note_error(container, supplier_order_id, f"{submission.supplier}: {error}")
        raise RetryableJobError(f"{submission.supplier}: {error}") from error
    record_submitted(container, submission, result)
    log.info(
        "supplier_order.submitted",
        extra={
            "supplier": submission.supplier,
            "supplier_order_id": result.supplier_order_id,
            "order_id": submission.request.order_id,
        },
    )
    return "submitted"
