"""Read models: the SQL behind the console, the admin API, /healthz and /metrics, shaped into
plain values. No Flask here; the web layer only renders what these return."""
