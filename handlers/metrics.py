"""Prometheus metrics at /metrics: open transfers by state and pack, breaches, notification
failures and sweep duration. Database figures are read at scrape time, so every instance
behind a load balancer reports the same totals."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from scheduler.jobs import SWEEP_DURATION, SWEEP_REGISTRY

__all__ = ["SWEEP_DURATION", "StoreCollector", "metrics_for"]


class StoreCollector(Collector):
    """Figures read from the database on each scrape."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """Yield the gauges."""
        open_ = GaugeMetricFamily("baton_open_transfers", "Open transfers", labels=["state", "policy"])
        breaches = GaugeMetricFamily("baton_breaches", "Clock breaches recorded by sweeps",
                                     labels=["clock"])
        notes = GaugeMetricFamily("baton_notifications", "Outbox rows by status", labels=["status"])
        with self.engine.connect() as c:
            for state, policy, n in c.execute(sa.text(
                    "SELECT state, policy, count(*) FROM transfer WHERE closed_at IS NULL "
                    "GROUP BY state, policy ORDER BY state, policy")):
                open_.add_metric([state, policy], n)
            clocks: dict[str, int] = {}
            for (key,) in c.execute(sa.text(
                    "SELECT key FROM notification WHERE kind = 'step' AND key LIKE :pattern"),
                    {"pattern": "%:breach"}):
                clock = key.split(":")[1]
                clocks[clock] = clocks.get(clock, 0) + 1
            for clock, n in sorted(clocks.items()):
                breaches.add_metric([clock], n)
            for status, n in c.execute(sa.text(
                    "SELECT status, count(*) FROM notification WHERE kind <> 'step' GROUP BY status")):
                notes.add_metric([status], n)
        yield open_
        yield breaches
        yield notes


def metrics_for(engine: sa.Engine) -> Callable[[], bytes]:
    """A function rendering the metrics page for one database."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(engine))

    def render() -> bytes:
        return generate_latest(registry) + generate_latest(SWEEP_REGISTRY)

    return render
