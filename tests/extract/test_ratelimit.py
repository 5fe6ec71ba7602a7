import itertools
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.extract.ratelimit import RateLimiter, SharedRateLimiter, bucket_file, open_shared
from pipeline.wiring import download_limiter
from tests.conftest import ROOT
from tests.support import busiest_second


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


# ------------------------------------------------------------------ shared across processes


def shared(path, rate=3.0, clock=None):
    clock = clock or FakeClock()
    return SharedRateLimiter(rate, path, clock=clock, sleep=clock.sleep), clock


def test_limiters_sharing_a_file_space_their_calls_as_one(tmp_path):
    clock = FakeClock()
    first, _ = shared(tmp_path / "b.last", clock=clock)
    second, _ = shared(tmp_path / "b.last", clock=clock)
    stamps = []
    for limiter in [first, second] * 5:
        limiter.acquire()
        stamps.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(abs(g - first.interval) < 1e-6 for g in gaps)
    assert first.interval == RateLimiter(3.0).interval  # the same spacing as in one process


def test_a_shared_limiter_does_not_sleep_after_idle_time(tmp_path):
    limiter, clock = shared(tmp_path / "b.last")
    limiter.acquire()
    clock.now += 5
    limiter.acquire()
    assert clock.slept == []


@pytest.mark.parametrize(
    "content", [b"", b"garbage", b"nan\n", b"inf\n", b"\xff\xfe\x00" * 40, b"12.5x\n"]
)
def test_a_corrupt_state_file_costs_no_wait_and_is_rewritten(tmp_path, content):
    path = tmp_path / "b.last"
    path.write_bytes(content)
    limiter, clock = shared(path)
    limiter.acquire()
    assert clock.slept == []
    limiter.acquire()  # the file now holds a good stamp: spacing holds again
    assert clock.slept == [pytest.approx(limiter.interval)]


def test_a_stamp_from_the_future_waits_one_interval_at_most(tmp_path):
    path = tmp_path / "b.last"
    path.write_text(f"{1e9:23.6f}\n")  # e.g. left before a reboot reset the monotonic clock
    limiter, clock = shared(path)
    limiter.acquire()
    assert clock.slept == [pytest.approx(limiter.interval)]


def test_buckets_are_per_host_port_and_key_or_no_key(tmp_path):
    ncbi = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
    assert bucket_file(tmp_path, ncbi, keyed=False).name == "eutils.ncbi.nlm.nih.gov-443-nokey.last"
    assert bucket_file(tmp_path, ncbi, keyed=True).name == "eutils.ncbi.nlm.nih.gov-443-key.last"
    local = bucket_file(tmp_path, "http://127.0.0.1:8080/entrez/eutils/", keyed=False)
    assert local.name == "127.0.0.1-8080-nokey.last"


def test_a_state_file_that_cannot_be_made_is_a_config_error_naming_it(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=str(blocker / "sub")):
        SharedRateLimiter(3.0, blocker / "sub" / "b.last")


def test_a_cache_that_cannot_be_used_falls_back_to_the_temporary_directory(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    blocker = tmp_path / "file"  # a read-only or missing home, say
    blocker.write_text("")
    limiter = open_shared(3.0, blocker / "cache", "http://127.0.0.1:9/", keyed=False)
    expected = tmp_path / "tmp" / f"medgen-etl-{os.getuid()}" / "127.0.0.1-9-nokey.last"
    assert limiter.path == expected
    assert f"sharing the rate limit through {expected.parent} instead" in caplog.text
    assert str(blocker / "cache") in caplog.text


# Runs in a child: wait for a common start, acquire N times, print each time.
CHILD = """
import sys, time
from pathlib import Path
from pipeline.extract.ratelimit import SharedRateLimiter
path, rate, count, start = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
limiter = SharedRateLimiter(rate, Path(path))
time.sleep(max(0.0, start - time.monotonic()))
for _ in range(count):
    limiter.acquire()
    print(time.monotonic(), flush=True)
"""


def _children(path, rate, count, how_many=2):
    start = time.monotonic() + 1.5  # both have started Python by then
    argv = [sys.executable, "-c", CHILD, str(path), str(rate), str(count), str(start)]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    return [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True) for _ in range(how_many)
    ]


def test_two_processes_on_one_file_stay_within_the_rate_together(tmp_path):
    rate, count = 20.0, 15
    children = _children(tmp_path / "b.last", rate, count)
    stamps = []
    for child in children:
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
        stamps.append([float(line) for line in out.split()])
    assert [len(s) for s in stamps] == [count, count]
    assert min(stamps[1]) < max(stamps[0])  # they did run at the same time
    assert min(stamps[0]) < max(stamps[1])
    merged = sorted(stamps[0] + stamps[1])
    assert busiest_second(merged) <= rate
    assert merged[-1] - merged[0] >= (2 * count - 1) * (1.1 / rate) * 0.9


def test_a_process_killed_while_holding_the_lock_does_not_block_the_others(tmp_path):
    path = tmp_path / "b.last"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "time.sleep(600)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    waiter = threading.Thread(target=SharedRateLimiter(3.0, path).acquire)
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive()  # it waits for the lock...
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    waiter.join(2.0)
    assert not waiter.is_alive()  # ...which the kernel released with its holder


def test_a_file_emptied_between_calls_cannot_speed_a_process_up(tmp_path):
    path = tmp_path / "b.last"
    limiter, clock = shared(path)
    stamps = []
    for _ in range(5):
        path.write_bytes(b"")  # someone keeps clobbering it
        limiter.acquire()
        stamps.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert all(abs(g - limiter.interval) < 1e-6 for g in gaps)


def test_downloads_share_one_limit_per_host_through_the_rate_limit_dir(tmp_path):
    settings = load_settings(env={}, overrides={"rate_limit_dir": tmp_path / "limits"})
    one = download_limiter(settings, "https://ftp.ncbi.nlm.nih.gov/")
    two = download_limiter(settings, "https://ftp.ncbi.nlm.nih.gov/")
    other = download_limiter(settings, "http://127.0.0.1:9/")
    assert isinstance(one, SharedRateLimiter)
    assert isinstance(two, SharedRateLimiter)
    assert isinstance(other, SharedRateLimiter)
    assert one.path == two.path != other.path
    assert one.path.parent == tmp_path / "limits"
    assert one.interval == two.interval
