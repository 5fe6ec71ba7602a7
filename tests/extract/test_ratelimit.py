import itertools

from pipeline.extract.ratelimit import RateLimiter


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_spaces_calls_evenly():
    clock = FakeClock()
    limiter = RateLimiter(3.0, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(7):
        limiter.acquire()
        stamps.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(abs(g - gaps[0]) < 1e-9 for g in gaps)
    assert 1 / 3 < gaps[0] < 0.4


def test_rate_limiter_never_allows_more_than_rate_in_any_second():
    clock = FakeClock()
    limiter = RateLimiter(3.0, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(30):
        limiter.acquire()
        stamps.append(clock.now)
    for start in stamps:
        assert sum(1 for s in stamps if start <= s <= start + 1.0) <= 3


def test_rate_limiter_does_not_sleep_after_idle_time():
    clock = FakeClock()
    limiter = RateLimiter(3.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now += 5
    limiter.acquire()
    assert clock.slept == []
