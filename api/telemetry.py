"""The service's own Prometheus counters, histograms and gauges (per process).

``/metrics`` (``api.routes.metrics``) serves them to the admin token.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LEASE_SECONDS = Histogram(
    "callprobe_lease_seconds",
    "Time to lease runs for one agent request.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
RUNS_LEASED = Counter("callprobe_runs_leased", "Runs handed to agents.")
RESULTS_INGESTED = Counter("callprobe_results_ingested", "Results stored from agents and pushes.")
HEALTH_PENDING = Gauge(
    "callprobe_health_pending",
    "Marks (probe, location) in the shared judging queue, counted every few seconds.",
)
HEALTH_EVAL_SECONDS = Histogram(
    "callprobe_health_eval_seconds",
    "Time of one judging transaction (a chunk of claimed marks).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
JUDGED = Counter("callprobe_judging_marks", "Marks (probe, location) judged by this process.")
JUDGING_LAG = Histogram(
    "callprobe_judging_lag_seconds",
    "From a mark (results committed, or a deadline swept) to its judgement's commit.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0),
)
HEALTH_CHANGES = Counter("callprobe_health_transitions", "Probe health transitions recorded.")
