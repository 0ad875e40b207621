"""The one percentile (loadtesting.percentiles): nearest rank over raw samples, as the verdict's
"exact percentiles" need; no interpolation, no histogram buckets."""

import math
import random

import pytest

from loadtesting.percentiles import percentile


def test_nearest_rank_is_the_smallest_value_with_q_percent_at_or_below_it():
    values = [float(v) for v in range(1, 21)]  # 1..20

    assert percentile(values, 50) == 10.0
    assert percentile(values, 95) == 19.0
    assert percentile(values, 99) == 20.0
    assert percentile(values, 100) == 20.0
    assert percentile(values, 0) == 1.0  # rank at least 1


def test_values_need_not_be_sorted_and_are_not_changed():
    values = [30.0, 10.0, 20.0, 40.0]

    assert percentile(values, 50) == 20.0
    assert percentile(values, 75) == 30.0
    assert values == [30.0, 10.0, 20.0, 40.0]


def test_always_a_measured_value_never_interpolated():
    assert percentile([1.0, 100.0], 50) == 1.0
    assert percentile([1.0, 100.0], 51) == 100.0
    assert percentile([7.5], 95) == 7.5


def test_the_rank_is_exact_where_float_arithmetic_would_overshoot():
    # 7 / 100 * 100 == 7.000000000000001 in floats, whose ceiling is 8
    values = [float(v) for v in range(1, 101)]

    assert percentile(values, 7) == 7.0
    assert percentile(values, 14) == 14.0
    assert percentile(values, 99.9) == 100.0
    assert percentile([float(v) for v in range(1, 1001)], 99.9) == 999.0


def test_matches_the_definition_on_random_samples():
    rng = random.Random(7)
    for _ in range(200):
        values = [rng.uniform(0, 500) for _ in range(rng.randint(1, 300))]
        q = rng.choice([50, 90, 95, 99, 99.9, rng.uniform(0, 100)])
        result = percentile(values, q)
        at_or_below = sum(1 for value in values if value <= result)
        below = sum(1 for value in values if value < result)
        assert result in values
        assert at_or_below >= math.ceil(q * len(values) / 100 - 1e-9)
        assert below < max(1, math.ceil(q * len(values) / 100 - 1e-9))


@pytest.mark.parametrize("q", [-1, 100.5, float("nan")])
def test_refuses_q_outside_0_to_100(q):
    with pytest.raises(ValueError, match="within 0..100"):
        percentile([1.0], q)


def test_refuses_no_values():
    with pytest.raises(ValueError, match="no values"):
        percentile([], 95)
