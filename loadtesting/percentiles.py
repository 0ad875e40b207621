"""The one percentile of the project: nearest rank over raw samples.

`percentile(values, q)` is the smallest value with at least q % of the values at or below it
(rank = ceil(q / 100 * n), at least 1): always one of the measured values, never interpolated and
never a histogram bucket, which is what docs/loadtest.md's "exact percentiles" asks of the verdict.
The rank is computed in exact arithmetic: in floats 7 / 100 * 100 is 7.000000000000001, whose
ceiling would pick the 8th value instead of the 7th.
"""

import math
from collections.abc import Sequence
from fractions import Fraction


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank q-th percentile (q in 0..100) of `values`, which need not be sorted.
    Raises ValueError for no values or a q outside 0..100."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile: q must be within 0..100, not {q!r}")
    if not values:
        raise ValueError("percentile: no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(Fraction(str(q)) * len(ordered) / 100))
    return float(ordered[rank - 1])
