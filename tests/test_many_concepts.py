"""Many concepts in one run: one efetch pool, the plan holds, sessions and kills survived."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time

import pytest

from pipeline.config import load_settings
from pipeline.plan import plan
from tests.conftest import ROOT, cache_env
from tests.fakes.dataset import Dataset, FakeConcept, pubmed_article
from tests.fakes.eutils_server import FakeEutils
from tests.support import (
    TEST_EMAIL,
    build_live,
    held_requests,
    live_settings,
    options,
    request_key,
)

CONCEPTS = 60


def many_concepts() -> tuple[Dataset, list[str]]:
    """60 concepts whose linked sets overlap inside a pool of 400 articles (seeded)."""
    rng = random.Random(7)
    pool = list(range(20_000_001, 20_000_401))
    articles = [pubmed_article(p, year=1990 + p % 35, month=1 + p % 12) for p in pool]
    categories = load_settings(env={}).categories
    filters = {c.term: rng.sample(pool, 150) for c in categories}
    concepts, links = [], {}
    for i in range(CONCEPTS):
        uid = 5_000_000 + i
        concepts.append(FakeConcept(uid=uid, concept_id=f"C9{i:06d}", title=f"Concept {i}"))
        links[uid] = rng.sample(pool, 40)
    return Dataset(concepts, articles, links, filters), [f"C9{i:06d}" for i in range(CONCEPTS)]


@pytest.fixture(scope="module")
def world() -> tuple[Dataset, list[str]]:
    return many_concepts()


def test_a_pmid_linked_to_many_concepts_is_fetched_once_and_the_plan_holds(world, tmp_path):
    dataset, cuis = world
    with FakeEutils(dataset) as fake:
        the_plan = plan(live_settings(fake, tmp_path), options(tmp_path, *cuis))
        before = len(fake.requests)
        result = build_live(fake, tmp_path, *cuis)
        sent = fake.requests[before:]
    fetched = [p for r in sent if r.utility == "efetch" for p in r.params["id"].split(",")]
    assert len(fetched) == len(set(fetched)) == result.manifest["pmids"]["requested"]
    assert len(sent) <= the_plan.requests
    assert len(result.manifest["concepts"]["found"]) == CONCEPTS


def test_a_forced_session_loss_mid_run_changes_nothing(world, tmp_path):
    dataset, cuis = world
    with FakeEutils(dataset) as fake:
        clean = build_live(fake, tmp_path / "clean", *cuis[:10])
        base = len(fake.requests)

        def forget_midway() -> None:
            deadline = time.monotonic() + 30
            while len(fake.requests) < base + 40 and time.monotonic() < deadline:
                time.sleep(0.002)
            fake.forget_sessions()

        watcher = threading.Thread(target=forget_midway)
        watcher.start()
        lost = build_live(fake, tmp_path / "lost", *cuis[:10], settings={"rate_limit": 50.0})
        watcher.join()
    files = {k: v["sha256"] for k, v in clean.manifest["files"].items()}
    assert {k: v["sha256"] for k, v in lost.manifest["files"].items()} == files


def test_a_killed_run_of_many_concepts_restarts_without_refetching(world, tmp_path):
    dataset, cuis = world
    concepts_file = tmp_path / "concepts.txt"
    concepts_file.write_text("# many\n" + "\n".join(cuis) + "\n")
    config = tmp_path / "fast.toml"
    config.write_text("[ncbi]\nrate_limit = 200.0\n")
    out = tmp_path / "out"
    args = [
        sys.executable,
        "-m",
        "pipeline",
        "build",
        "--concepts-file",
        str(concepts_file),
        "--out",
        str(out),
        "--config",
        str(config),
    ]
    with FakeEutils(dataset) as fake:
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "NCBI_EUTILS_URL": fake.base_url,
            "NCBI_EMAIL": TEST_EMAIL,
            **cache_env(),
        }
        victim = subprocess.Popen(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while len(fake.requests) < 250 and time.monotonic() < deadline:
            time.sleep(0.001)
        victim.kill()
        victim.wait()
        held = held_requests(out)
        before = len(fake.requests)
        rerun = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
        resent = {request_key(r.utility, r.params) for r in fake.requests[before:]}
    assert rerun.returncode == 0, rerun.stderr
    assert len(held) >= 200
    assert held.isdisjoint(resent)  # nothing the killed run had stored is asked again
    manifest = json.loads((out / "current" / "manifest.json").read_text())
    assert len(manifest["concepts"]["found"]) == CONCEPTS


def test_many_concepts_are_linked_by_batched_elinks_each_uid_its_own_set(world, tmp_path):
    dataset, cuis = world
    with FakeEutils(dataset) as fake:
        batched = build_live(fake, tmp_path / "batched", *cuis, settings={"elink_batch_size": 25})
        elinks = [r for r in fake.requests if r.utility == "elink"]
        one_each = build_live(fake, tmp_path / "one", *cuis, settings={"elink_batch_size": 1})
    assert len(elinks) == 3  # 60 UIDs, 25 to a request
    assert batched.manifest["files"] == one_each.manifest["files"]


def test_an_offline_build_reads_a_store_that_linked_one_uid_per_elink(world, tmp_path):
    dataset, cuis = world
    with FakeEutils(dataset) as fake:
        live = build_live(fake, tmp_path / "live", *cuis, settings={"elink_batch_size": 1})
        offline = build_live(
            fake, tmp_path / "offline", *cuis, raw_dir=tmp_path / "live" / "raw", offline=True
        )
        assert not [r for r in fake.requests if r.utility == "elink" and "," in r.params["id"]]
    assert offline.manifest["files"] == live.manifest["files"]
