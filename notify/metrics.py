"""Delivery counters for ``/metrics`` (prometheus_client's default registry, per process)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

SENT = Counter("callprobe_notify_sent", "Notices a receiver accepted.", ["channel_kind"])
FAILED = Counter(
    "callprobe_notify_failed", "Delivery attempts that failed (retried later).", ["channel_kind"]
)
DEAD = Counter(
    "callprobe_notify_dead_lettered",
    "Deliveries given up after their last attempt (redeliverable from the log).",
    ["channel_kind"],
)
LATENCY = Histogram(
    "callprobe_notify_delivery_seconds",
    "From the notice being queued to a receiver accepting it.",
    ["channel_kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0),
)
