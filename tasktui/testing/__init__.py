"""Test helpers shipped with the package (importable by tests and benchmarks)."""

from tasktui.testing.faultproxy import DEFAULT_MIX, KINDS, Fault, FaultProxy, Gate, ProxyStats, Seen

__all__ = ["DEFAULT_MIX", "KINDS", "Fault", "FaultProxy", "Gate", "ProxyStats", "Seen"]
