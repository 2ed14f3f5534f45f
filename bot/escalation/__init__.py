"""Escalation: the policy in escalation.yml, the decisions it makes, and the SLA clock."""
