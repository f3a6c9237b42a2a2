"""``integrator demo``: the README's main command."""

from __future__ import annotations

import logging
import time

import click
from rich.console import Console
from rich.table import Table

from integrator.demo import Demo, DemoResult


def _duration(start: object, end: object) -> str:
    """Time since the item's first stage, in whole seconds (integrator.domain.durations)."""
    from datetime import datetime

    from integrator.domain.durations import human, seconds_between

    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return ""
    seconds = seconds_between(start, end)
    return f"+{human(seconds)}" if seconds >= 0 else "(dated before the first stage: clock?)"


def print_result(console: Console, result: DemoResult) -> None:
    table = Table(title="Item timelines", show_lines=True)
    for column in ("order", "item", "supplier · rule", "decoration", "stages", "tracking"):
        table.add_column(column)
    for line in result.timelines:
        stages = line["stages"]
        start = stages[0][1] if stages else None
        path = " → ".join(f"{stage} {_duration(start, at)}".strip() for stage, at in stages)
        who = f"{line['supplier'] or '—'} · {line['rule'] or ''}".strip(" ·")
        if line["disposition"] in ("hold", "skip", "wait") or line["stage"] == "on_hold":
            who = f"{who}\n[dim]{line['reason']}[/dim]"
        table.add_row(
            line["order"],
            line["item"],
            who,
            line["decoration"] or "—",
            path,
            "\n".join(line["tracking"]) or "—",
        )
    console.print(table)
    fulfillments = Table(title="Shopify fulfillments created")
    for column in ("order row", "supplier", "tracking", "fulfillment id", "items"):
        fulfillments.add_column(column)
    for f in result.fulfillments:
        fulfillments.add_row(
            str(f["order_id"]), f["supplier"], f["tracking"], str(f["fulfillment"]), str(f["items"])
        )
    console.print(fulfillments)
    split = Table(title="Fulfillment orders: Shopify's split, our answers")
    for column in ("order", "location", "lines", "status", "request", "our answer"):
        split.add_column(column)
    for fo in result.fulfillment_orders:
        split.add_row(
            fo["order"], fo["location"], fo["lines"], fo["status"], fo["request"], fo["answer"]
        )
    console.print(split)


@click.command()
@click.option("--keep", is_flag=True, help="leave everything running and print the console URL")
def demo(keep: bool) -> None:
    """Run the whole flow on this machine with sandboxes: orders in, tracking out."""
    logging.basicConfig(level=logging.ERROR)
    for name in ("", "werkzeug", "integrator", "apscheduler"):
        logging.getLogger(name).setLevel(logging.ERROR)
    console = Console()
    console.print("[bold]integrator demo[/bold]: no accounts, everything on 127.0.0.1")
    runner = Demo(say=console.print)
    try:
        result = runner.run()
        print_result(console, result)
        if not result.ok:
            for problem in result.problems:
                console.print(f"[red]✗ {problem}[/red]")
            raise SystemExit(1)
        console.print(
            f"[green]✓ every item reached its supplier and came back with tracking "
            f"({result.seconds:.1f}s)[/green]"
        )
        if keep:
            # the demo's own admin token, made for this run (nothing shipped opens a console)
            console.print(
                f"console: {result.console_url}  (token: {runner.stack.admin_token}); Ctrl-C stops"
            )
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop()
