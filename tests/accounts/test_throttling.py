"""The failed-login throttle directly: atomic reservations, give-backs and the sliding window."""

import threading

import pytest
from django.test import RequestFactory

from accounts.throttling import LoginFailureThrottle


class FourPerMinute(LoginFailureThrottle):
    rate = "4/min"


class Clock:
    def __init__(self, now: float):
        self.now = now


@pytest.fixture
def clock(monkeypatch):
    # 20 s into a minute-long period: 999_960 % 60 == 0.
    clock = Clock(999_960.0 + 20)
    monkeypatch.setattr(FourPerMinute, "timer", lambda self: clock.now)
    return clock


def guess(address: str = "198.51.100.7") -> FourPerMinute:
    """One login attempt's throttle check; the caller decides what the password check gave."""
    throttle = FourPerMinute()
    request = RequestFactory().post("/auth/token", REMOTE_ADDR=address)
    throttle.allowed = throttle.allow_request(request, None)
    return throttle


def test_throttle_sixteen_parallel_guesses_get_exactly_the_limit():
    barrier = threading.Barrier(16)
    results: list[bool] = []

    def guesser():
        barrier.wait()
        results.append(guess().allowed)

    threads = [threading.Thread(target=guesser) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert results.count(True) == 4 and results.count(False) == 12


def test_throttle_refused_guesses_do_not_count_and_released_ones_give_their_place_back(clock):
    first = [guess() for _ in range(4)]
    assert [t.allowed for t in first] == [True] * 4
    assert [guess().allowed for _ in range(5)] == [False] * 5

    first[0].release()  # that attempt logged in: not a failure
    first[0].release()  # a second give-back of the same place changes nothing

    assert guess().allowed
    assert not guess().allowed


def test_throttle_counts_per_address(clock):
    for _ in range(4):
        guess("198.51.100.7")

    assert not guess("198.51.100.7").allowed
    assert guess("198.51.100.8").allowed


def test_throttle_retry_after_is_when_the_next_guess_fits(clock):
    for _ in range(4):
        guess()
    refused = guess()
    assert not refused.allowed
    # Full period, 20 s in: 40 s to its end, then 15 s more until 4 * (1 - e/60) + 1 <= 4.
    assert refused.wait() == 55

    clock.now += 54
    assert not guess().allowed
    clock.now += 1
    assert guess().allowed


def test_throttle_previous_periods_failures_weigh_in_by_their_overlap(clock):
    for _ in range(4):
        guess()
    clock.now += 40 + 30  # the next period, half way through: 4 * 0.5 = 2 still count

    assert [guess().allowed for _ in range(3)] == [True, True, False]


def test_throttle_lockout_ends_after_two_quiet_periods(clock):
    for _ in range(4):
        guess()
    clock.now += 40 + 60  # both periods passed

    assert [guess().allowed for _ in range(5)] == [True] * 4 + [False]
