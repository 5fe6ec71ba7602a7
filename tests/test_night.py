"""A night of 2,000 concepts against the loopback fake, through the command line.

One module-scoped world: 2,000 MedGen concepts whose links overlap inside a
pool of articles, and one concept with 25,000 linked PMIDs that all match
the therapy filter (a category past esearch's 9,999 ceiling). The runs are
subprocesses of ``python -m pipeline`` (the fake answers from this process,
so client and server use both cores):

- ``build --dry-run`` prints the plan;
- a clean build at a rate the limiter must enforce: it stays within the plan
  and the rate, and the 25,000-result category comes back whole;
- a second build into another output: its history sessions are forgotten
  by the server mid-run, then it is killed with SIGKILL, then run again:
  it finishes without asking again for anything it had stored, and
  publishes the same files as the clean build.
"""

from __future__ import annotations

import json
import math
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.config import load_settings
from tests.conftest import ROOT, cache_env
from tests.fakes.dataset import Dataset, FakeConcept, pubmed_article
from tests.fakes.eutils_server import FakeEutils, RecordedRequest
from tests.support import TEST_EMAIL, busiest_second, held_requests, request_key

CONCEPTS = 2_000
POOL = 3_000
BIG = 25_000
BIG_CUI = "C9000000"
THERAPY = "Therapy/Broad[filter]"
RATE = 400.0  # requests/s for the clean build: below what client and fake can do


def night_world() -> tuple[Dataset, list[str]]:
    rng = random.Random(2026)
    pool = list(range(40_000_001, 40_000_001 + POOL))
    big = list(range(50_000_001, 50_000_001 + BIG))
    articles = [
        pubmed_article(p, year=1995 + p % 30, month=1 + p % 12, day=1 + p % 28) for p in pool + big
    ]
    filters = {c.term: rng.sample(pool, POOL // 3) for c in load_settings(env={}).categories}
    filters[THERAPY] = filters[THERAPY] + big
    concepts, links = [], {}
    for i in range(CONCEPTS):
        uid = 6_000_000 + i
        concepts.append(FakeConcept(uid=uid, concept_id=f"C9{i:06d}", title=f"Night concept {i}"))
        links[uid] = rng.sample(pool, 8)
    links[6_000_000] = links[6_000_000] + big
    return Dataset(concepts, articles, links, filters), [c.concept_id for c in concepts]


@dataclass
class Night:
    fake: FakeEutils
    tmp: Path
    concepts_file: Path

    def run(self, *args: str, rate: float, out: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args, rate=rate, out=out),
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )

    def argv(self, *args: str, rate: float, out: Path) -> list[str]:
        config = self.tmp / f"rate-{rate:g}.toml"
        config.write_text(f"[ncbi]\nrate_limit = {rate}\n")
        return [
            sys.executable,
            "-m",
            "pipeline",
            "build",
            "--concepts-file",
            str(self.concepts_file),
            "--out",
            str(out),
            "--config",
            str(config),
            *args,
        ]

    def env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "NCBI_EUTILS_URL": self.fake.base_url,
            "NCBI_EMAIL": TEST_EMAIL,
            **cache_env(),
        }


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    dataset, cuis = night_world()
    tmp = tmp_path_factory.mktemp("night")
    concepts_file = tmp / "concepts.txt"
    concepts_file.write_text("# a night of concepts\n" + "\n".join(cuis) + "\n")
    with FakeEutils(dataset) as fake:
        yield Night(fake, tmp, concepts_file)


@dataclass(frozen=True)
class CleanRun:
    planned: int
    sent: list[RecordedRequest]
    out: Path


@pytest.fixture(scope="module")
def clean(night: Night) -> CleanRun:
    dry = night.run("--dry-run", rate=5000.0, out=night.tmp / "dry")
    assert dry.returncode == 0, dry.stderr
    assert not (night.tmp / "dry").exists()
    match = re.search(r"^requests: (\d+) at most", dry.stdout, re.M)
    assert match, dry.stdout[-2000:]
    before = len(night.fake.requests)
    done = night.run(rate=RATE, out=night.tmp / "clean")
    assert done.returncode == 0, done.stderr[-4000:]
    return CleanRun(int(match[1]), night.fake.requests[before:], night.tmp / "clean")


def test_the_night_sends_no_more_requests_than_its_dry_run_planned(clean: CleanRun):
    assert clean.planned > 7 * CONCEPTS  # 7 searches each, at least
    assert len(clean.sent) <= clean.planned


def test_the_night_links_a_hundred_concepts_to_one_elink(clean: CleanRun):
    elinks = [r for r in clean.sent if r.utility == "elink"]
    assert len(elinks) == math.ceil(CONCEPTS / 100)


def test_the_night_respects_the_rate_limit(clean: CleanRun):
    times = sorted(r.time for r in clean.sent)
    assert len(times) > 10 * RATE  # long enough for the limiter to matter
    assert busiest_second(times) <= RATE


def test_the_category_of_25000_results_comes_back_whole(clean: CleanRun):
    table = pq.read_table(clean.out / "current" / "citations" / "category=therapy")
    rows = zip(table["cui"].to_pylist(), table["pmid"].to_pylist(), strict=True)
    pmids = [pmid for cui, pmid in rows if cui == BIG_CUI]
    assert len(pmids) == len(set(pmids)) >= BIG
    assert set(range(50_000_001, 50_000_001 + BIG)) <= set(pmids)
    manifest = json.loads((clean.out / "current" / "manifest.json").read_text())
    assert len(manifest["concepts"]["found"]) == CONCEPTS


def test_a_night_with_a_lost_session_and_a_kill_finishes_without_refetching(
    night: Night, clean: CleanRun
):
    out = night.tmp / "interrupted"
    fake = night.fake
    base = len(fake.requests)
    log = night.tmp / "interrupted.log"
    with log.open("w") as stderr:
        victim = subprocess.Popen(
            night.argv(rate=5000.0, out=out),
            env=night.env(),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        lost = _after(fake, base + 3_000, fake.forget_sessions)
        lost.join()
        _wait_for(fake, base + 9_000)
        assert victim.poll() is None  # killed mid-run, not after it
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    assert "history session lost" in log.read_text()  # the loss was met and survived
    held = held_requests(out)
    before = len(fake.requests)
    rerun = night.run(rate=5000.0, out=out)
    resent = {request_key(r.utility, r.params) for r in fake.requests[before:]}
    assert rerun.returncode == 0, rerun.stderr[-4000:]
    assert len(held) >= 5_000
    assert held.isdisjoint(resent)
    assert _files(out) == _files(clean.out)


def _wait_for(fake: FakeEutils, count: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while len(fake.requests) < count:
        assert time.monotonic() < deadline, f"only {len(fake.requests)} requests came"
        time.sleep(0.002)


def _after(fake: FakeEutils, count: int, action: object) -> threading.Thread:
    def wait_then_act() -> None:
        _wait_for(fake, count)
        action()  # type: ignore[operator]

    thread = threading.Thread(target=wait_then_act)
    thread.start()
    return thread


def _files(out: Path) -> dict[str, str]:
    manifest = json.loads((out / "current" / "manifest.json").read_text())
    return {k: v["sha256"] for k, v in manifest["files"].items()}
