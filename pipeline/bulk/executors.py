"""Where the per-file parse runs: in-process, a local process pool, or Dask."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol, TypeVar

from pipeline.errors import ConfigError

T = TypeVar("T")


class Executor(Protocol):
    def map(self, fn: Callable[..., T], *columns: Sequence[Any]) -> list[T]: ...


class SerialExecutor:
    def map(self, fn: Callable[..., T], *columns: Sequence[Any]) -> list[T]:
        return [fn(*args) for args in zip(*columns, strict=True)]


class ProcessExecutor:
    """A local pool. forkserver: workers never inherit a parent's threads or locks."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def map(self, fn: Callable[..., T], *columns: Sequence[Any]) -> list[T]:
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
            return list(pool.map(fn, *columns))


class DaskExecutor:
    """A Dask distributed cluster (every worker must see the input and work paths)."""

    def __init__(self, scheduler: str) -> None:
        self.scheduler = scheduler

    def map(self, fn: Callable[..., T], *columns: Sequence[Any]) -> list[T]:
        try:
            from distributed import Client
        except ImportError as exc:
            raise ConfigError("--executor dask needs Dask: pip install 'medgen-etl[dask]'") from exc
        with Client(self.scheduler) as client:  # type: ignore[no-untyped-call]
            # pure=False: the same file parsed twice must run twice, not be cached.
            futures = client.map(fn, *columns, pure=False)
            results: list[T] = client.gather(futures)
            return results


def make_executor(kind: str, *, workers: int | None, scheduler: str | None) -> Executor:
    if kind == "dask":
        if not scheduler:
            raise ConfigError("--executor dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
        return DaskExecutor(scheduler)
    if kind == "process":
        count = workers or multiprocessing.cpu_count()
        return SerialExecutor() if count == 1 else ProcessExecutor(count)
    if kind == "serial":
        return SerialExecutor()
    raise ConfigError(f"unknown executor {kind!r} (process, dask or serial)")
