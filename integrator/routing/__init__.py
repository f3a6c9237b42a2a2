"""Routing: which supplier makes each line item, from the store's rules and catalog.

Pure logic, no I/O: the store's configuration comes in as a value from
:mod:`integrator.store_config`.
"""

from integrator.routing.router import (
    group_by_supplier,
    next_supplier,
    route_line,
    route_manually,
    route_order,
)

__all__ = [
    "group_by_supplier",
    "next_supplier",
    "route_line",
    "route_manually",
    "route_order",
]
