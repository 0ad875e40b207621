"""Is the server's memory flat after warm-up? The arithmetic of the RSS timeline.

Pure functions over `[t, mb]` samples (t in seconds from the start of the load); no psutil,
gevent or locust here, so the tests can import it into the pytest process.

Warm-up is the ramp-up plus the first quarter of the steady state: the baseline is the median of
the samples in that first quarter, the end is the median of the last quarter. Medians, so that one
sample taken mid-request (or mid garbage collection) moves neither. The least-squares slope over
the steady state is reported beside it (MB per minute), not judged: on a short run a slow climb
stays under any percentage that a long one would cross.
"""

from statistics import median

# Fewer steady-state samples than this and growth is reported as unknown, not judged.
MIN_STEADY_SAMPLES = 4
# The sampling interval is the run time / this, between the bounds: a few seconds on long runs.
TIMELINE_POINTS = 60
MIN_INTERVAL_S = 1.0
MAX_INTERVAL_S = 5.0


def timeline_interval(run_time: float) -> float:
    """Seconds between two timeline samples for a load of `run_time` seconds."""
    return min(max(run_time / TIMELINE_POINTS, MIN_INTERVAL_S), MAX_INTERVAL_S)


def growth(timeline: list, *, steady_start: float, end: float) -> dict | None:
    """Growth from the end of warm-up to the end of the load, or None with too few samples.

    `timeline` is `[t, mb]` pairs in time order; `steady_start` and `end` are on the same clock.
    """
    points = [(t, mb) for t, mb in timeline if steady_start <= t <= end]
    if len(points) < MIN_STEADY_SAMPLES:
        return None
    steady = [mb for _, mb in points]
    quarter = len(steady) // 4
    warm_mb = median(steady[:quarter])
    end_mb = median(steady[-quarter:])
    if warm_mb <= 0:
        return None  # no server process was visible
    return {
        "warm_mb": round(warm_mb, 1),
        "end_mb": round(end_mb, 1),
        "growth_pct": round((end_mb - warm_mb) / warm_mb * 100, 1),
        "slope_mb_per_min": round(slope(points) * 60, 2),
        "steady_samples": len(steady),
        "window_samples": quarter,
    }


def slope(points: list) -> float:
    """Least-squares MB per second over `(t, mb)` points: how fast a leak would be leaking."""
    mean_t = sum(t for t, _ in points) / len(points)
    mean_mb = sum(mb for _, mb in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if not spread:
        return 0.0
    return sum((t - mean_t) * (mb - mean_mb) for t, mb in points) / spread


def is_flat(measured: dict | None, max_growth_pct: float) -> bool | None:
    """True when the growth is within the limit; None when it could not be measured."""
    if measured is None:
        return None
    return measured["growth_pct"] <= max_growth_pct


def memory_line(rss: dict | None, samples: int, uss: dict | None = None) -> str:
    """The console's one line about the server's memory over the run (summed RSS, and USS)."""
    if rss is None:
        return (
            f"Server memory: {samples} sample(s), too few in the steady state to tell growth "
            f"(at least {MIN_STEADY_SAMPLES}); not judged"
        )
    line = (
        f"Server memory: {rss['warm_mb']:g} MB after warm-up -> {rss['end_mb']:g} MB "
        f"at the end ({rss['growth_pct']:+.1f} %)"
    )
    if uss is not None:
        line += (
            f"; unique (USS) {uss['warm_mb']:g} -> {uss['end_mb']:g} MB "
            f"({uss['growth_pct']:+.1f} %)"
        )
    return line
