"""Pure domain: item stages, orders, routing decisions and supplier events. No I/O."""
