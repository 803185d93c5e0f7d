"""Prometheus gauges of the audit log, set from each publisher round."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from market.audit.publisher import PublishOutcome


class AuditMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.consistent = Gauge(
            "market_audit_log_consistent",
            "1 while the audit log reconciles; 0 once the publisher stopped it (see the alerts)",
            registry=registry,
        )
        self.tree_size = Gauge("market_audit_tree_size", "Entries sequenced into the tree", registry=registry)
        self.checkpoint_size = Gauge(
            "market_audit_checkpoint_size", "Size of the last checkpoint signed here", registry=registry
        )
        self.quorum_met = Gauge(
            "market_audit_witness_quorum_met",
            "1 if the latest checkpoint has its witness quorum",
            registry=registry,
        )
        self.quarantined = Counter(
            "market_audit_entries_quarantined", "Entries refused as forged and quarantined", registry=registry
        )
        self.consistent.set(1)

    def observe(self, outcome: PublishOutcome) -> None:
        self.consistent.set(1 if outcome.consistent else 0)
        if outcome.consistent:
            self.tree_size.set(outcome.tree_size)
        if outcome.checkpoint_size is not None:
            self.checkpoint_size.set(outcome.checkpoint_size)
        if outcome.quorum_met is not None:
            self.quorum_met.set(1 if outcome.quorum_met else 0)
        self.quarantined.inc(len(outcome.quarantined))
