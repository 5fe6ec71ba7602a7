"""build --incremental over a world that changed between two nights, against the fake server.

Night 2 (tests/fakes/changing_world.py): new linked PMIDs, four records modified
(with that night's modification date), a link removed and a concept added.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from pipeline import incremental
from pipeline.cli import main
from pipeline.gc import gc
from pipeline.load.manifest import CHANGES_FILE, dump_manifest, load_manifest
from pipeline.load.snapshot import current_snapshot, verify
from pipeline.plan import IncrementalPlan, describe_incremental_plan, plan_incremental
from pipeline.runner import BuildResult, build, make_client
from tests.conftest import cache_env
from tests.fakes.changing_world import (
    MODIFIED,
    NIGHT_ONE,
    NIGHT_TWO,
    UIDS,
    NightTwo,
    night_one,
    night_two,
)
from tests.fakes.eutils_server import FakeEutils, RecordedRequest
from tests.fakes.nights import parquet_bytes, rebuild_night
from tests.support import TEST_EMAIL, build_live, live_settings, options


def _today() -> tuple[int, int, int]:
    now = datetime.now(UTC)
    return now.year, now.month, now.day


@dataclass
class Nights:
    out: Path
    one: BuildResult
    two: BuildResult
    full: BuildResult  # night 2 built in full, over a copy of night 1's output
    changed: NightTwo
    plan: IncrementalPlan
    sent: list[RecordedRequest]


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Nights:
    tmp = tmp_path_factory.mktemp("incremental")
    out, copy = tmp / "out", tmp / "full"
    world = night_one()
    with FakeEutils(world) as fake:
        one = build_live(fake, out, *NIGHT_ONE)
        shutil.copytree(out, copy, symlinks=True)
        changed = night_two(world, modified_on=_today())
        found = plan_incremental(
            live_settings(fake, out), options(out, *NIGHT_TWO, incremental=True)
        )
        assert isinstance(found, IncrementalPlan), found
        before = len(fake.requests)
        two = build_live(fake, out, *NIGHT_TWO, incremental=True)
        sent = fake.requests[before:]
        full = build_live(fake, copy, *NIGHT_TWO)
    return Nights(out, one, two, full, changed, found, sent)


def _efetched(sent: list[RecordedRequest]) -> list[int]:
    return [int(p) for r in sent if r.utility == "efetch" for p in r.params["id"].split(",")]


def test_night_two_incremental_publishes_the_tables_of_a_full_build(nights: Nights):
    assert nights.two.manifest["run"]["mode"] == "incremental"
    assert nights.full.manifest["run"]["mode"] == "full"
    incremental, full = parquet_bytes(nights.two.snapshot), parquet_bytes(nights.full.snapshot)
    assert incremental.keys() == full.keys()
    assert [name for name in incremental if incremental[name] != full[name]] == []
    titles = pq.read_table(nights.two.snapshot / "articles", columns=["pmid", "title"])
    corrected = {p for p, t in zip(*titles.to_pydict().values(), strict=True) if "corrected" in t}
    assert corrected == nights.changed.modified  # what changed is there, not last night's


def test_night_two_efetches_only_the_new_and_the_modified_pmids(nights: Nights):
    fetched = _efetched(nights.sent)
    assert len(fetched) == len(set(fetched))
    assert set(fetched) == nights.changed.new | nights.changed.modified
    section = nights.two.manifest["incremental"]
    assert set(section["new"]) == nights.changed.new
    assert set(section["modified"]) == nights.changed.modified
    assert section["carried"] == nights.two.manifest["pmids"]["requested"] - len(fetched)


def test_night_two_sends_no_more_requests_than_its_dry_run_plan(nights: Nights):
    assert len(nights.sent) <= nights.plan.requests
    assert set(nights.plan.split.fetch) == set(_efetched(nights.sent))
    text = describe_incremental_plan(nights.plan)
    assert f"incremental over {nights.one.snapshot.name}" in text
    assert f"{len(nights.changed.new)} new and {len(nights.changed.modified)} modified" in text


def test_night_two_names_its_parent_and_the_answers_it_carried(nights: Nights):
    manifest = load_manifest(nights.two.snapshot)
    assert manifest.parent == nights.one.snapshot.name
    night_one_answers = {r.sha256 for r in load_manifest(nights.one.snapshot).responses}
    assert manifest.carried
    assert {r.sha256 for r in manifest.carried} <= night_one_answers
    assert manifest.run is not None
    assert manifest.run.arguments["modified_since"] == manifest.incremental.since  # type: ignore[union-attr]


def test_an_incremental_snapshot_is_rebuilt_byte_for_byte(nights: Nights, tmp_path: Path):
    for night in (nights.one, nights.two):
        rebuilt = rebuild_night(nights.out, night, tmp_path / night.snapshot.name)
        assert rebuilt.differing == ()  # the changes table too: told against the same parent
        assert parquet_bytes(rebuilt.build.snapshot) == parquet_bytes(night.snapshot)
        changes = (rebuilt.build.snapshot / CHANGES_FILE).read_bytes()
        assert changes == (night.snapshot / CHANGES_FILE).read_bytes()


def test_after_gc_keep_1_current_verifies_and_is_rebuilt(nights: Nights, tmp_path: Path):
    out = tmp_path / "out"
    shutil.copytree(nights.out, out, symlinks=True)
    result = gc(out, out / "raw", keep=1)
    assert [s.id for s in result.removed] == [nights.one.snapshot.name]
    current = current_snapshot(out)
    verify(current)
    rebuilt = rebuild_night(out, _result_at(nights.two, current), tmp_path / "rebuilt")
    assert parquet_bytes(rebuilt.build.snapshot) == parquet_bytes(nights.two.snapshot)
    # Its parent is gone, but gc kept the side of it that its changes were told against.
    assert list(result.sides_kept) == [nights.one.snapshot.name]
    assert rebuilt.differing == ()
    changes = (rebuilt.build.snapshot / CHANGES_FILE).read_bytes()
    assert changes == (nights.two.snapshot / CHANGES_FILE).read_bytes()


def _result_at(night: BuildResult, snapshot: Path) -> BuildResult:
    return BuildResult(snapshot, night.manifest, night.failures)


def test_full_forces_a_complete_refetch(tmp_path: Path):
    out = tmp_path / "out"
    with FakeEutils(night_one()) as fake:
        one = build_live(fake, out, *NIGHT_ONE)
        before = len(fake.requests)
        again = build_live(fake, out, *NIGHT_ONE, incremental=True, full=True)
        fetched = _efetched(fake.requests[before:])
    assert again.manifest["run"]["mode"] == "full"
    assert len(fetched) == one.manifest["pmids"]["requested"]
    assert any("--full was given" in w for w in again.manifest["warnings"])


def test_an_incremental_run_is_full_when_the_last_full_build_is_too_old(tmp_path: Path):
    out = tmp_path / "out"
    with FakeEutils(night_one()) as fake:
        build_live(fake, out, *NIGHT_ONE)
        later = datetime(2999, 1, 1, tzinfo=UTC)
        settings = live_settings(fake, out)
        again = build(settings, options(out, *NIGHT_ONE, incremental=True), now=later)
    assert again.manifest["run"]["mode"] == "full"
    assert any("full_every_days = 7" in w for w in again.manifest["warnings"])


def test_an_incremental_run_without_a_current_snapshot_is_a_full_one(tmp_path: Path):
    with FakeEutils(night_one()) as fake:
        first = build_live(fake, tmp_path / "out", *NIGHT_ONE, incremental=True)
    assert first.manifest["run"]["mode"] == "full"
    assert any("has no current snapshot" in w for w in first.manifest["warnings"])


def test_the_cli_plans_and_makes_an_incremental_night(tmp_path: Path):
    out = str(tmp_path / "out")
    config = tmp_path / "fast.toml"
    config.write_text("[ncbi]\nrate_limit = 200.0\n")  # the fake is not NCBI: no 3/s
    world = night_one()
    with FakeEutils(world) as fake:
        env = {"NCBI_EUTILS_URL": fake.base_url, "NCBI_EMAIL": TEST_EMAIL, **cache_env()}
        concepts = [arg for cui in NIGHT_ONE for arg in ("--concept", cui)]

        def invoke(*args: str) -> Result:
            return CliRunner().invoke(
                main, ["build", *concepts, "--out", out, "--config", str(config), *args], env=env
            )

        assert invoke().exit_code == 0
        changed = night_two(world, modified_on=_today())
        before = len(fake.requests)
        dry = invoke("--incremental", "--dry-run")
        assert not [r for r in fake.requests[before:] if r.utility == "efetch"]
        night = invoke("--incremental")
    assert dry.exit_code == 0, dry.output
    assert "plan: incremental over " in dry.output
    assert f"0 new and {len(changed.modified)} modified to fetch" in dry.output
    assert night.exit_code == 0, night.output
    assert load_manifest(Path(night.stdout.strip())).run.mode == "incremental"  # type: ignore[union-attr]


def test_an_offline_incremental_run_is_a_full_one_from_the_store(tmp_path: Path):
    out = tmp_path / "out"
    with FakeEutils(night_one()) as fake:
        one = build_live(fake, out, *NIGHT_ONE)
        again = build_live(fake, out, *NIGHT_ONE, incremental=True, offline=True)
    assert again.manifest["run"]["mode"] == "full"
    assert any("--offline" in w for w in again.manifest["warnings"])
    assert parquet_bytes(again.snapshot) == parquet_bytes(one.snapshot)


def _mdat_searches(sent: list[RecordedRequest]) -> list[RecordedRequest]:
    return [r for r in sent if r.utility == "esearch" and "[mdat]" in r.params.get("term", "")]


def test_the_modification_date_search_ors_the_linked_sets_of_one_session(nights: Nights):
    [search] = _mdat_searches(nights.sent)  # six concepts, one elink: one search
    assert search.params["term"].startswith("(#1 OR #2 OR #3 OR #4 OR #5 OR #6) AND (")


def test_a_lost_session_searches_set_by_set_and_finds_the_same(tmp_path: Path):
    world = night_one()
    with FakeEutils(world) as fake:
        build_live(fake, tmp_path / "out", *NIGHT_ONE)
        settings = live_settings(fake, tmp_path / "out")
        client = make_client(settings, options(tmp_path / "out", *NIGHT_ONE))
        links = client.link_pubmed_many(list(UIDS[:5]), batch=100)
        held = incremental.Held(())
        held.source.update(dict.fromkeys(MODIFIED, 0))
        asked = {cui: set(MODIFIED) for cui in NIGHT_ONE}
        world.modified.update(dict.fromkeys(MODIFIED, _today()))
        by_cui = {cui: links[uid] for cui, uid in zip(NIGHT_ONE, UIDS, strict=False)}
        fake.forget_sessions()
        before = len(fake.requests)
        found = incremental.modified_pmids(
            client, by_cui, asked, held, since="2000/01/01", page_size=9999
        )
        sent = fake.requests[before:]
    assert found == set(MODIFIED)
    assert len(_mdat_searches(sent)) == 1 + 5  # the union, refused; then set by set
    assert len([r for r in sent if r.utility == "elink"]) == 5  # each set relinked


def test_the_modified_window_starts_before_the_parent_run_first_started(tmp_path: Path):
    """A parent resumed days after it was killed reuses answers from before the kill."""
    out = tmp_path / "out"
    with FakeEutils(night_one()) as fake:
        one = build_live(fake, out, *NIGHT_ONE)
        settings = live_settings(fake, out)
    manifest = load_manifest(one.snapshot)
    assert manifest.run is not None
    assert manifest.run.started_at is not None
    started, created = manifest.run.started_at, str(manifest.created_at)
    assert datetime.fromisoformat(started) <= datetime.fromisoformat(created)
    path = one.snapshot / "manifest.json"
    data = json.loads(path.read_text())
    data["run"]["started_at"] = "2026-03-10T04:00:00Z"  # run is outside the content hash
    path.write_text(dump_manifest(data))
    carry, why = incremental.decide(
        settings, full=False, offline=False, now=datetime(2026, 3, 12, tzinfo=UTC)
    )
    assert carry is not None, why
    assert carry.since == "2026/03/08"  # the run's start, less modified_margin_days (2)
