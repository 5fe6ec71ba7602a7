import pytest

from pipeline.errors import HttpStatusError, RetriesExhaustedError, TransientError
from pipeline.extract.retry import run_with_retry
from tests.support import retry_policy


class Flaky:
    def __init__(self, failures):
        self.failures = list(failures)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def test_retry_succeeds_after_transient_failures_and_records_waits():
    waits: list[float] = []
    fn = Flaky([TransientError("503"), TransientError("reset")])
    policy = retry_policy(max_attempts=5, initial_wait=1.0, jitter=0.0)
    assert run_with_retry(fn, policy, describe="x", sleep=waits.append) == "ok"
    assert fn.calls == 3
    assert waits == [1.0, 2.0]


def test_retry_honours_retry_after_over_backoff():
    waits: list[float] = []
    fn = Flaky([TransientError("429", retry_after=7.0)])
    policy = retry_policy(max_attempts=3, initial_wait=0.1, jitter=0.0)
    run_with_retry(fn, policy, describe="x", sleep=waits.append)
    assert waits == [7.0]


def test_retry_caps_a_huge_retry_after():
    policy = retry_policy(max_retry_after=30.0, jitter=0.0)
    assert policy.wait_for(1, TransientError("429", retry_after=86400), rand=0.0) == 30.0


def test_backoff_is_exponential_capped_and_jittered():
    policy = retry_policy(initial_wait=1.0, max_wait=10.0, jitter=2.0)
    assert policy.wait_for(1, None, rand=0.0) == 1.0
    assert policy.wait_for(3, None, rand=0.0) == 4.0
    assert policy.wait_for(10, None, rand=0.0) == 10.0
    assert policy.wait_for(1, None, rand=0.5) == 2.0


def test_retry_gives_up_with_retries_exhausted_naming_the_request():
    fn = Flaky([TransientError("503")] * 10)
    with pytest.raises(RetriesExhaustedError) as info:
        run_with_retry(
            fn, retry_policy(max_attempts=3), describe="einfo db=pubmed", sleep=lambda s: None
        )
    assert fn.calls == 3
    assert "einfo db=pubmed" in str(info.value)
    assert info.value.exit_code == 75


def test_retry_does_not_retry_a_permanent_error():
    fn = Flaky([HttpStatusError(400)])
    with pytest.raises(HttpStatusError):
        run_with_retry(fn, retry_policy(max_attempts=5), describe="x", sleep=lambda s: None)
    assert fn.calls == 1


def test_the_attempt_that_gives_up_is_reported_as_giving_up_not_as_retrying():
    retried: list[tuple[int, float]] = []
    gave_up: list[int] = []
    fn = Flaky([TransientError("503")] * 10)
    with pytest.raises(RetriesExhaustedError):
        run_with_retry(
            fn,
            retry_policy(max_attempts=3, initial_wait=1.0, jitter=0.0),
            describe="x",
            sleep=lambda s: None,
            on_retry=lambda n, error, wait: retried.append((n, wait)),
            on_give_up=lambda n, error: gave_up.append(n),
        )
    assert retried == [(1, 1.0), (2, 2.0)]
    assert gave_up == [3]


def test_retries_exhausted_names_the_request_once():
    fn = Flaky([TransientError("connection refused", request="einfo db=pubmed")] * 3)
    with pytest.raises(RetriesExhaustedError) as info:
        run_with_retry(
            fn, retry_policy(max_attempts=3), describe="einfo db=pubmed", sleep=lambda s: None
        )
    assert str(info.value) == "gave up after 3 attempts: connection refused [einfo db=pubmed]"
