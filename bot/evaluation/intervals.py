"""95 % intervals of the proportions the evaluation reports.

A small set moves a lot with one message: among 140 requests for a person one miss
is 0.7 points of recall. The Wilson score interval (Wilson 1927) is the one used
here: unlike the normal approximation it stays inside [0, 1] and is honest near 0
and 1, where Baton's targets sit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The standard normal quantile of a two-sided 95 % interval.
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Proportion:
    """`hits` out of `total`, with its 95 % Wilson interval."""

    hits: int
    total: int
    low: float
    high: float

    @property
    def value(self) -> float:
        return self.hits / self.total

    def __str__(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}] ({self.hits}/{self.total})"


def wilson(hits: int, total: int, runs: int = 1, z: float = Z_95) -> Proportion | None:
    """`hits`/`total` with its Wilson score interval; None when `total` is 0 (nothing
    to measure is "not measured", never 0).

    `runs`: how many trainings' predictions of the same messages are pooled in the
    counts. The share is theirs together, but the interval is that of one run's
    number of messages: the same message judged three times is not three messages.
    """
    if not 0 <= hits <= total:
        raise ValueError(f"hits must be between 0 and total, got {hits}/{total}")
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    if total == 0:
        return None
    share = hits / total
    n = total / runs
    denominator = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    spread = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / denominator
    return Proportion(hits, total, max(0.0, centre - spread), min(1.0, centre + spread))
