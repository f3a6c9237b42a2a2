"""``integrator reconcile``, ``integrator stats`` and ``integrator items`` (operator actions)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from integrator.cli.common import container_or_exit, opened_container, opened_database


@click.command()
@click.option("--since", type=click.DateTime(), help="look for missed orders from this date")
@click.option("--dry-run", is_flag=True, help="report what the passes find; change nothing")
@click.option("--pass", "passes", multiple=True, help="run only these passes")
def reconcile(since: datetime | None, dry_run: bool, passes: tuple[str, ...]) -> None:
    """Run the reconciliation passes now, then the work they found, with a progress bar."""
    from integrator.jobqueue.jobs import queue_stats
    from integrator.jobqueue.status import JobStatus
    from integrator.jobqueue.worker import Worker
    from integrator.pipeline.handlers import build_handlers
    from integrator.pipeline.reconcile import PASS_FUNCTIONS, PASSES

    container = container_or_exit(json_logs=False)
    chosen = [p for p in PASSES if not passes or p in passes]
    console = Console()
    reports = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("reconciliation passes", total=len(chosen))
        for name in chosen:
            progress.update(task, description=f"pass: {name}")
            reports.append(PASS_FUNCTIONS[name](container, dry_run=dry_run, since=since))
            progress.advance(task)
        if not dry_run:
            worker = Worker(container.db, build_handlers(container))
            due = queue_stats(container.db)["counts"].get(JobStatus.QUEUED, 0)
            work = progress.add_task("work found", total=max(due, 1))
            while worker.run_once():
                progress.advance(work)
    table = Table(title="reconciliation" + (" (dry run)" if dry_run else ""))
    for column in ("pass", "found", "enqueued", "notes"):
        table.add_column(column)
    for report in reports:
        table.add_row(
            report.name,
            str(report.found),
            str(report.enqueued),
            "\n".join(report.notes[:10]) + (" …" if len(report.notes) > 10 else ""),
        )
    console.print(table)
    container.close()


@click.command()
@click.option(
    "--days", default=30, show_default=True, help="window: orders paid in the last N days"
)
@click.option("--json", "as_json", is_flag=True)
def stats(days: int, as_json: bool) -> None:
    """Fulfillment time (paid → shipped) and shipping time (shipped → delivered), p50/p90."""
    from integrator.db.timestamps import utcnow
    from integrator.domain.durations import human
    from integrator.pipeline.stats import production_times

    with opened_database() as db:
        rows = production_times(db, since=utcnow() - timedelta(days=days))
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows], indent=2))
        return
    table = Table(title=f"production time, orders paid in the last {days} days")
    for column in (
        "supplier",
        "product type",
        "n",
        "fulfillment p50",
        "p90",
        "n",
        "shipping p50",
        "p90",
        "clock problems",
    ):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.supplier,
            row.product_type,
            str(row.fulfillment_count),
            human(row.fulfillment_p50_seconds),
            human(row.fulfillment_p90_seconds),
            str(row.shipping_count),
            human(row.shipping_p50_seconds),
            human(row.shipping_p90_seconds),
            str(row.fulfillment_clock_problems + row.shipping_clock_problems),
        )
    Console().print(table)
    problems = sum(r.fulfillment_clock_problems + r.shipping_clock_problems for r in rows)
    if problems:
        Console(stderr=True).print(
            f"{problems} item(s) left out: a later stage is dated before the earlier one "
            "(a clock or parsing problem, not a time)"
        )


@click.group()
def items() -> None:
    """Act on a held or failed line item: re-route, release, retry, cancel."""


def _act(action: str, line_item_id: int, *args: str) -> None:
    from integrator.pipeline import operator

    with opened_container(json_logs=False) as container:
        try:
            stage = getattr(operator, f"{action}_item")(container, line_item_id, *args)
        except operator.OperatorError as refused:
            raise click.ClickException(str(refused)) from refused
    click.echo(f"item {line_item_id}: {action} → {stage}")


@items.command()
@click.argument("line_item_id", type=int)
@click.argument("supplier")
def reroute(line_item_id: int, supplier: str) -> None:
    """Send a held or failed item to SUPPLIER."""
    _act("reroute", line_item_id, supplier)


@items.command()
@click.argument("line_item_id", type=int)
def release(line_item_id: int) -> None:
    """Route a held item again by the rules."""
    _act("release", line_item_id)


@items.command()
@click.argument("line_item_id", type=int)
def retry(line_item_id: int) -> None:
    """Submit a failed item again to its supplier."""
    _act("retry", line_item_id)


@items.command()
@click.argument("line_item_id", type=int)
def cancel(line_item_id: int) -> None:
    """Cancel an item no supplier has started."""
    _act("cancel", line_item_id)
