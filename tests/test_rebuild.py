"""Snapshots rebuilt offline years later, byte for byte, and gc that keeps them so.

Three nights against the loopback fake E-utilities, its world changing between
them: night 2 gets newer answers to the same requests (a corrected article, a
renamed concept), night 3 new and removed links. Each earlier snapshot must
still be rebuilt from the answers its manifest names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.errors import HttpStatusError, NoSnapshotError, OfflineMissError, UsageError
from pipeline.extract.rawstore import ANSWERS, OBJECTS, RawStore, decompress
from pipeline.gc import gc
from pipeline.load import layout
from pipeline.load.snapshot import current_snapshot, verify
from pipeline.load.snapshots import list_snapshots
from pipeline.rebuild import rebuild
from pipeline.runner import BuildResult
from tests.conftest import ROOT
from tests.fakes.dataset import Dataset, parse_article, pubmed_article
from tests.fakes.eutils_server import FakeEutils, Fault
from tests.fakes.world import FIRST_PMID, WORLD_CUIS, report_world
from tests.support import build_live, demo_snapshot, live_settings


def parquet_bytes(snapshot: Path) -> dict[str, bytes]:
    return {p.relative_to(snapshot).as_posix(): p.read_bytes() for p in snapshot.rglob("*.parquet")}


def _newer_answers(world: Dataset) -> None:
    """Night 2: the same requests are answered differently (same keys, new bodies)."""
    pmid = FIRST_PMID + 3
    world.articles[pmid] = parse_article(
        pubmed_article(pmid, year=1998, month=4, day=4, title="Synthetic finding, corrected.")
    )
    concept = world.concepts["7100002"]
    world.concepts["7100002"] = dataclasses.replace(concept, title="Mockosis, renamed")


def _new_links(world: Dataset) -> None:
    """Night 3: a new linked article, and a link removed."""
    pmid = FIRST_PMID + 60
    world.articles[pmid] = parse_article(pubmed_article(pmid, year=2025, title="A new finding."))
    world.links["7100001"].append(pmid)
    world.links["7100003"].remove(FIRST_PMID + 1)


def _three_nights(out: Path, fake: FakeEutils, world: Dataset) -> list[BuildResult]:
    results = [build_live(fake, out, *WORLD_CUIS)]
    _newer_answers(world)
    results.append(build_live(fake, out, *WORLD_CUIS))
    _new_links(world)
    results.append(build_live(fake, out, *WORLD_CUIS))
    return results


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Three published nights in one output directory, and the fake that served them."""
    out = tmp_path_factory.mktemp("nights") / "out"
    world = report_world()
    with FakeEutils(world) as fake:
        yield out, _three_nights(out, fake, world), fake


def _rebuild(out: Path, night: BuildResult, into: Path):
    settings = live_settings_offline(into)
    return rebuild(settings, night.snapshot, raw_dir=out / "raw", into=into)


def live_settings_offline(out: Path):
    # No server is needed: a rebuild never sends a request.
    with FakeEutils(Dataset()) as nobody:
        return live_settings(nobody, out)


def test_the_nights_differ_and_later_answers_are_stored_beside_earlier_ones(nights):
    out, (one, two, three), _ = nights
    assert parquet_bytes(one.snapshot) != parquet_bytes(two.snapshot)
    assert parquet_bytes(two.snapshot) != parquet_bytes(three.snapshot)
    store = RawStore(out / "raw")
    renewed = [e for e in store.entries() if len(e.answers) > 1]
    assert {e.utility for e in renewed} >= {"efetch", "esummary"}
    # einfo answered the same three times: one object, one answer, moved on.
    [einfo] = [e for e in store.entries() if e.utility == "einfo" and e.params["db"] == "pubmed"]
    assert len(einfo.answers) == 1
    assert einfo.answers[0].last_run is not None


def test_rebuilding_night_1_after_later_nights_gives_night_1s_parquet_byte_for_byte(
    nights, tmp_path
):
    out, (one, _, three), fake = nights
    sent = len(fake.requests)
    result = _rebuild(out, one, tmp_path / "rebuilt")
    assert len(fake.requests) == sent  # offline: nothing asked
    assert result.differing == ()
    assert parquet_bytes(result.build.snapshot) == parquet_bytes(one.snapshot)
    assert result.build.manifest["content_hash"] == one.manifest["content_hash"]
    assert current_snapshot(out) == three.snapshot  # the original directory is untouched
    assert current_snapshot(tmp_path / "rebuilt") == result.build.snapshot


def test_rebuilding_night_2_gives_night_2s_parquet_byte_for_byte(nights, tmp_path):
    out, (_, two, _), _ = nights
    result = _rebuild(out, two, tmp_path / "rebuilt")
    assert parquet_bytes(result.build.snapshot) == parquet_bytes(two.snapshot)


def test_a_rebuild_into_the_originals_own_output_directory_is_refused(nights):
    out, (one, _, _), _ = nights
    with pytest.raises(UsageError, match="give another --into"):
        _rebuild(out, one, out)


def test_a_rebuild_whose_answer_is_gone_names_it_and_fails_66(nights, tmp_path):
    out, (one, _, _), _ = nights
    raw = tmp_path / "raw"
    shutil.copytree(out / "raw", raw)
    efetch = next(r for r in one.manifest["responses"] if r["utility"] == "efetch")
    (raw / OBJECTS / efetch["sha256"]).unlink()
    settings = live_settings_offline(tmp_path / "rebuilt")
    with pytest.raises(OfflineMissError) as info:
        rebuild(settings, one.snapshot, raw_dir=raw, into=tmp_path / "rebuilt")
    assert info.value.exit_code == 66
    assert efetch["sha256"][:12] in str(info.value)


# ------------------------------------------------------------------ gc


def _published_nights(tmp_path: Path) -> tuple[Path, list[BuildResult]]:
    out = tmp_path / "out"
    world = report_world()
    with FakeEutils(world) as fake:
        return out, _three_nights(out, fake, world)


def _needed_by(manifest: dict) -> set[str]:
    return {r["sha256"] for r in manifest["responses"]}


def test_gc_keeps_the_newest_and_what_they_need_and_each_kept_one_still_rebuilds(tmp_path):
    out, (one, two, three) = _published_nights(tmp_path)
    store = RawStore(out / "raw")
    before = set(store.objects())
    dry = gc(out, out / "raw", keep=2, dry_run=True)
    assert set(store.objects()) == before  # a dry run removes nothing
    assert one.snapshot.is_dir()
    result = gc(out, out / "raw", keep=2)
    assert [s.id for s in result.removed] == [one.snapshot.name] == [s.id for s in dry.removed]
    assert result.objects == dry.objects
    assert result.objects  # night 1's own answers are gone ...
    assert not set(result.objects) & (_needed_by(two.manifest) | _needed_by(three.manifest))
    assert set(store.objects()) == before - set(result.objects)
    assert not one.snapshot.exists()
    assert one.snapshot.name not in layout.published(out)
    assert [s.id for s in list_snapshots(out)] == [two.snapshot.name, three.snapshot.name]
    # ... and no answer names a removed object.
    for entry in store.entries():
        assert all(a.sha256 in store.objects() for a in entry.answers)
    for night, into in ((two, "r2"), (three, "r3")):
        rebuilt = _rebuild(out, night, tmp_path / into)
        assert parquet_bytes(rebuilt.build.snapshot) == parquet_bytes(night.snapshot)


def test_gc_keep_1_leaves_current_verified_and_rebuildable(tmp_path):
    out, (_, _, three) = _published_nights(tmp_path)
    result = gc(out, out / "raw", keep=1)
    assert len(result.removed) == 2
    assert result.freed == sum(s.bytes for s in result.removed) + sum(result.objects.values())
    assert verify(current_snapshot(out))["snapshot_id"] == three.snapshot.name
    rebuilt = _rebuild(out, three, tmp_path / "rebuilt")
    assert parquet_bytes(rebuilt.build.snapshot) == parquet_bytes(three.snapshot)
    assert set(RawStore(out / "raw").objects()) == _needed_by(three.manifest)


def test_gc_never_removes_current_even_when_it_is_not_the_newest(tmp_path):
    out, (one, _, _) = _published_nights(tmp_path)
    link = out / layout.CURRENT
    tmp = out / ".current-test"
    os.symlink(f"{layout.SNAPSHOTS}/{one.snapshot.name}", tmp)
    os.replace(tmp, link)
    result = gc(out, out / "raw", keep=1)
    assert one.snapshot.name not in [s.id for s in result.removed]
    assert one.snapshot.is_dir()
    assert _needed_by(one.manifest) <= set(RawStore(out / "raw").objects())


def test_gc_keeps_the_answers_of_an_unfinished_run(tmp_path):
    out = tmp_path / "out"
    world = report_world()
    with FakeEutils(world) as fake:
        build_live(fake, out, *WORLD_CUIS)
        _newer_answers(world)
        build_live(fake, out, *WORLD_CUIS)
        _new_links(world)
        fake.inject("efetch", Fault.http(404))
        with pytest.raises(HttpStatusError):
            build_live(fake, out, *WORLD_CUIS)
        store = RawStore(out / "raw")
        [token] = store.unfinished_runs()
        held = {a.sha256 for e in store.entries() for a in e.answers if a.fetched_by(token)}
        assert held
        gc(out, out / "raw", keep=1)
        assert held <= set(store.objects())
        searches = len(fake.requests_for("esearch"))
        build_live(fake, out, *WORLD_CUIS)  # resumes: no search is sent again
        assert len(fake.requests_for("esearch")) == searches


def test_gc_of_a_snapshot_removed_leaves_rebuild_saying_there_is_no_such_snapshot(tmp_path):
    out, (one, _, _) = _published_nights(tmp_path)
    gc(out, out / "raw", keep=1)
    result = CliRunner().invoke(main, ["rebuild", one.snapshot.name, "--out", str(out)], env={})
    assert result.exit_code == 66
    assert "medgen-etl snapshots" in result.output
    with pytest.raises(NoSnapshotError):
        verify(one.snapshot)


# ------------------------------------------------------------------ the earlier layout


def to_earlier_layout(raw: Path) -> None:
    """Rewrite a store as the earlier layout kept it: each request's latest body as
    ``<utility>/<key>.xml`` beside its sidecar, and no objects or answers."""
    store = RawStore(raw)
    for entry in list(store.entries()):
        latest = entry.answers[-1]
        request_dir = raw / entry.utility
        request_dir.mkdir(exist_ok=True)
        body = decompress(store.object_path(latest.sha256).read_bytes())
        (request_dir / f"{entry.key}.xml").write_bytes(body)
        meta = {
            "utility": entry.utility,
            "params": entry.params,
            "sha256": hashlib.sha256(body).hexdigest(),
            "bytes": len(body),
        }
        (request_dir / f"{entry.key}.json").write_text(json.dumps(meta, indent=1))
    shutil.rmtree(raw / OBJECTS)
    shutil.rmtree(raw / ANSWERS)


def test_a_store_in_the_earlier_layout_builds_offline_as_before_and_after_migrating(tmp_path):
    reference = parquet_bytes(demo_snapshot(tmp_path / "reference"))
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "pipeline" / "demo" / "raw", raw)
    to_earlier_layout(raw)
    assert RawStore(raw).legacy_entries() == 13
    args = ["build", "--concept", "C4725027", "--offline", "--raw-dir", str(raw)]
    before = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "before")], env={})
    assert before.exit_code == 0, before.output
    assert parquet_bytes(Path(before.output.strip())) == reference
    migrated = CliRunner().invoke(main, ["raw", "migrate", "--raw-dir", str(raw)], env={})
    assert migrated.exit_code == 0, migrated.output
    assert "migrated 13 entries (13 new objects)" in migrated.output
    assert RawStore(raw).legacy_entries() == 0
    assert not (raw / "efetch").exists()
    after = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "after")], env={})
    assert after.exit_code == 0, after.output
    assert parquet_bytes(Path(after.output.strip())) == reference


def test_migrate_exits_74_naming_a_corrupt_entry_and_keeps_it(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "pipeline" / "demo" / "raw", raw)
    to_earlier_layout(raw)
    [body] = (raw / "efetch").glob("*.xml")
    body.write_bytes(body.read_bytes().replace(b"<PMID", b"<PMiD", 1))
    result = CliRunner().invoke(main, ["raw", "migrate", "--raw-dir", str(raw)], env={})
    assert result.exit_code == 74
    assert str(body) in result.output
    assert body.exists()
    assert "migrated 12 entries" in result.output
