"""The order pipeline: job handlers that enrich, route, submit, track and sync."""
