"""The article's industry averages, drawn as reference lines beside Baton's own figures.

Source: the escalation-management article the product is built from (its table
"Industry / Average Escalation Rate").
"""

from __future__ import annotations

from typing import Dict, List

_ESCALATION_RATE = (
    ("Software & Technology", 5.0, 10.0),
    ("E-commerce", 3.0, 7.0),
    ("Financial Services", 8.0, 15.0),
    ("Telecommunications", 10.0, 20.0),
)


def escalation_rate_references() -> List[Dict[str, object]]:
    """Each industry's usual escalation rate, in percent."""
    return [{"industry": name, "low": low, "high": high} for name, low, high in _ESCALATION_RATE]
