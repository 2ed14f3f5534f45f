"""Escalation metrics: the KPIs of a period, their breakdowns and root causes (docs/metrics.md)."""
