"""Prometheus metrics. Declared once at import, as prometheus-client expects; they hold no
configuration, only counters. Under gunicorn each process exposes its own figures."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DELIVERIES = Counter(
    "integrator_deliveries_total",
    "Webhook and callback deliveries by source, topic and outcome",
    ["source", "topic", "outcome"],
)
JOBS = Counter("integrator_jobs_total", "Jobs run, by kind and outcome", ["kind", "outcome"])
JOB_SECONDS = Histogram(
    "integrator_job_seconds",
    "Job handler duration",
    ["kind"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
JOB_CPU_SECONDS = Counter(
    "integrator_job_cpu_seconds_total",
    "CPU time of the thread that ran the job's handler (the worker's own share excluded)",
    ["kind"],
)
SUPPLIER_CALLS = Counter(
    "integrator_supplier_calls_total",
    "Supplier API calls by supplier and result",
    ["supplier", "result"],
)
SUPPLIER_SECONDS = Histogram(
    "integrator_supplier_call_seconds", "Supplier API call duration", ["supplier", "operation"]
)
SHOPIFY_THROTTLE_WAITS = Counter(
    "integrator_shopify_throttle_waits_total", "Times the Shopify client waited for its cost bucket"
)
ITEMS_PER_STAGE = Gauge("integrator_items", "Line items per stage", ["stage"])
QUEUE_JOBS = Gauge("integrator_queue_jobs", "Jobs per status", ["status"])
OLDEST_QUEUED = Gauge("integrator_queue_oldest_due_seconds", "Age of the oldest due queued job")


def observe_job(kind: str, outcome: str, seconds: float, cpu_seconds: float) -> None:
    JOBS.labels(kind, outcome).inc()
    JOB_SECONDS.labels(kind).observe(seconds)
    JOB_CPU_SECONDS.labels(kind).inc(cpu_seconds)
