"""The one retry policy, declared as data and run by tenacity.

Transient means: HTTP 429 and 5xx gateway/server errors, timeouts (including a
request's total deadline), connection resets, and bodies that arrive truncated
or as half an XML document. Retry-After is honoured (capped); otherwise the
wait is exponential with random jitter, so many clients do not retry in step.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from pipeline.errors import NcbiError, RetriesExhaustedError, TransientError

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry. No defaults here: the values are the
    packaged ``pipeline.toml``'s ``[retry]`` (or a config file's), read once by
    ``pipeline.config.load_settings``, so there is one place that says them."""

    max_attempts: int
    initial_wait: float
    max_wait: float
    max_retry_after: float
    jitter: float

    def wait_for(self, attempt: int, error: BaseException | None, rand: float) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after >= 0:
            return min(float(retry_after), self.max_retry_after) + rand * self.jitter
        backoff = min(self.initial_wait * 2.0 ** (attempt - 1), self.max_wait)
        return float(backoff + rand * self.jitter)


def run_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    describe: str,
    sleep: Callable[[float], None] | None = None,
    rand: Callable[[], float] = random.random,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    on_give_up: Callable[[int, BaseException], None] | None = None,
) -> T:
    """Call ``fn`` until it succeeds, fails for good, or the policy gives up.

    ``on_retry`` hears of each failed attempt that will be tried again (with the
    wait), ``on_give_up`` of the last one: tenacity computes a wait even for the
    attempt it then stops at, so the wait is reported only once a sleep follows.
    """

    def wait(state: tenacity.RetryCallState) -> float:
        error: BaseException | None = state.outcome.exception() if state.outcome else None
        return float(policy.wait_for(state.attempt_number, error, rand()))

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        if on_retry is not None and error is not None and state.next_action is not None:
            on_retry(state.attempt_number, error, state.next_action.sleep)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.max_attempts),
        wait=wait,
        retry=tenacity.retry_if_exception_type(TransientError),
        sleep=sleep or time.sleep,
        before_sleep=before_sleep,
        reraise=False,
    )
    try:
        return retrying(fn)
    except tenacity.RetryError as exc:
        last = exc.last_attempt.exception()
        assert last is not None  # only a failed attempt ends in RetryError
        if on_give_up is not None:
            on_give_up(policy.max_attempts, last)
        # The request is named once, by this error, not again by the last attempt's.
        what = last.detail if isinstance(last, NcbiError) else str(last)
        raise RetriesExhaustedError(
            f"gave up after {policy.max_attempts} attempts: {what}", request=describe
        ) from last
