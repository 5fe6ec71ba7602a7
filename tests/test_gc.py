"""gc: older snapshots and the raw answers nothing kept needs are removed; every kept
snapshot can still be rebuilt, and an unfinished run can still resume."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.errors import HttpStatusError, NoSnapshotError, UsageError, VerifyError
from pipeline.extract.rawstore import RawStore
from pipeline.extract.store_users import served_outputs
from pipeline.gc import gc
from pipeline.load import layout
from pipeline.load.lineage import kept_sides
from pipeline.load.manifest import CHANGES_FILE
from pipeline.load.snapshot import current_snapshot, verify
from pipeline.load.snapshots import list_snapshots
from pipeline.rebuild import rebuild
from pipeline.runner import BuildResult
from pipeline.wiring import ORPHAN_GRACE_SECONDS
from tests.conftest import ROOT
from tests.fakes.eutils_server import FakeEutils, Fault
from tests.fakes.nights import (
    new_links,
    newer_answers,
    offline_settings,
    parquet_bytes,
    published_nights,
    rebuild_night,
)
from tests.fakes.world import WORLD_CUIS, report_world
from tests.support import build_live, demo_snapshot


def _needed_by(manifest: dict[str, Any]) -> set[str]:
    return {r["sha256"] for r in manifest["responses"]}


def test_gc_keeps_the_newest_and_what_they_need_and_each_kept_one_still_rebuilds(tmp_path):
    out, (one, two, three) = published_nights(tmp_path)
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
        rebuilt = rebuild_night(out, night, tmp_path / into)
        assert parquet_bytes(rebuilt.build.snapshot) == parquet_bytes(night.snapshot)


def test_gc_keep_1_leaves_current_verified_and_rebuildable(tmp_path):
    out, (_, _, three) = published_nights(tmp_path)
    result = gc(out, out / "raw", keep=1)
    assert len(result.removed) == 2
    removed = sum(s.bytes for s in result.removed) + sum(result.objects.values())
    assert result.freed == removed - sum(result.sides_kept.values())
    assert verify(current_snapshot(out)).snapshot_id == three.snapshot.name
    rebuilt = rebuild_night(out, three, tmp_path / "rebuilt")
    assert parquet_bytes(rebuilt.build.snapshot) == parquet_bytes(three.snapshot)
    assert set(RawStore(out / "raw").objects()) == _needed_by(three.manifest)


def _changes(snapshot: Path) -> bytes:
    return (snapshot / CHANGES_FILE).read_bytes()


def test_gc_keeps_the_side_of_a_removed_parent_so_its_child_is_rebuilt_byte_for_byte(tmp_path):
    out, (_, two, three) = published_nights(tmp_path)
    # Night 3 has changes to tell (a new link, a removed one): the same bytes mean something.
    assert pq.read_table(three.snapshot / CHANGES_FILE).num_rows >= 2
    result = gc(out, out / "raw", keep=1)
    # Night 3 is current and was built over night 2: night 2's side is kept, night 1's not.
    assert list(result.sides_kept) == [two.snapshot.name]
    assert kept_sides(out) == result.sides_kept
    side = out / layout.SIDES / two.snapshot.name
    assert sorted(p.relative_to(side).as_posix() for p in side.rglob("*.parquet")) == sorted(
        rel for rel in two.manifest["files"] if rel.startswith(("citations/", "articles/"))
    )
    rebuilt = rebuild_night(out, three, tmp_path / "rebuilt")
    assert rebuilt.differing == ()
    assert _changes(rebuilt.build.snapshot) == _changes(three.snapshot)


def test_a_later_gc_removes_a_side_no_kept_snapshot_needs(tmp_path):
    out, (_, two, three) = published_nights(tmp_path)
    gc(out, out / "raw", keep=1)
    world = report_world()
    with FakeEutils(world) as fake:
        build_live(fake, out, *WORLD_CUIS)  # night 4, over night 3 (kept)
    result = gc(out, out / "raw", keep=1)
    assert [s.id for s in result.removed] == [three.snapshot.name]
    assert list(result.sides_removed) == [two.snapshot.name]
    assert list(result.sides_kept) == [three.snapshot.name]
    assert list(kept_sides(out)) == [three.snapshot.name]


def test_a_kept_side_whose_file_changed_is_refused_and_the_rebuild_says_so(tmp_path):
    out, (_, two, three) = published_nights(tmp_path)
    gc(out, out / "raw", keep=1)
    side = out / layout.SIDES / two.snapshot.name
    victim = side / "articles" / "part-0.parquet"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    rebuilt = rebuild_night(out, three, tmp_path / "rebuilt")
    assert rebuilt.differing == (CHANGES_FILE,)
    warnings = rebuilt.build.manifest["warnings"]
    assert any(f"parent snapshot {two.snapshot.name} cannot be read" in w for w in warnings)


def test_a_dry_run_names_the_side_it_would_keep_and_writes_none(tmp_path):
    out, (_, two, _) = published_nights(tmp_path)
    result = CliRunner().invoke(main, ["gc", "--keep", "1", "--dry-run", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"would keep the side of {two.snapshot.name}" in result.output
    assert not (out / layout.SIDES).exists()


def test_gc_never_removes_current_even_when_it_is_not_the_newest(tmp_path):
    out, (one, _, _) = published_nights(tmp_path)
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
        newer_answers(world)
        build_live(fake, out, *WORLD_CUIS)
        new_links(world)
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
    out, (one, _, _) = published_nights(tmp_path)
    gc(out, out / "raw", keep=1)
    result = CliRunner().invoke(main, ["rebuild", one.snapshot.name, "--out", str(out)], env={})
    assert result.exit_code == 66
    assert "medgen-etl snapshots" in result.output
    with pytest.raises(NoSnapshotError):
        verify(one.snapshot)


def test_gc_refuses_the_shipped_demo_store(tmp_path):
    with pytest.raises(UsageError, match="demo store"):
        gc(tmp_path, ROOT / "pipeline" / "demo" / "raw", keep=1)


def test_gc_prints_what_it_frees(tmp_path):
    out, (one, two, _) = published_nights(tmp_path)
    dry = CliRunner().invoke(main, ["gc", "--keep", "1", "--dry-run", "--out", str(out)], env={})
    assert dry.exit_code == 0, dry.output
    assert f"would remove snapshot {one.snapshot.name}" in dry.output
    assert "would free" in dry.output
    assert one.snapshot.is_dir()
    done = CliRunner().invoke(main, ["gc", "--keep", "1", "--out", str(out)], env={})
    assert done.exit_code == 0, done.output
    assert f"removed snapshot {two.snapshot.name}" in done.output
    assert "raw object(s)" in done.output
    assert f"kept the side of {two.snapshot.name}" in done.output
    assert "freed" in done.output


def test_a_published_snapshot_whose_manifest_was_changed_stops_gc_before_it_removes_anything(
    tmp_path,
):
    first, second, third = (demo_snapshot(tmp_path) for _ in range(3))
    manifest = second / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"demo"', '"eutils"', 1))
    with pytest.raises(VerifyError, match="content_hash"):
        gc(tmp_path, tmp_path / "raw", keep=1)
    assert first.is_dir()
    assert third.is_dir()


def _sharing_nights(tmp_path: Path) -> tuple[Path, Path, Path, BuildResult]:
    """Output a and b build from one raw store on night 1; a again on night 2."""
    raw, a, b = tmp_path / "shared-raw", tmp_path / "a", tmp_path / "b"
    world = report_world()
    with FakeEutils(world) as fake:
        build_live(fake, a, *WORLD_CUIS, raw_dir=raw)
        night_one_b = build_live(fake, b, *WORLD_CUIS, raw_dir=raw)
        newer_answers(world)
        build_live(fake, a, *WORLD_CUIS, raw_dir=raw)
    return raw, a, b, night_one_b


def _age_objects(raw: Path, seconds: float) -> None:
    """Date every object back: gc spares objects younger than its grace period."""
    then = time.time() - seconds
    for path in (raw / "objects").rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def test_gc_in_one_output_keeps_what_another_sharing_its_raw_store_needs(tmp_path):
    raw, a, b, night_one_b = _sharing_nights(tmp_path)
    assert set(served_outputs(raw)) == {a.resolve(), b.resolve()}
    _age_objects(raw, 2 * ORPHAN_GRACE_SECONDS)
    result = gc(a, raw, keep=1)
    assert result.objects  # a's night 1's own answers went ...
    assert not set(result.objects) & _needed_by(night_one_b.manifest)  # ... b's stayed
    assert len(result.removed) == 1  # a's night 1, built from the answers b's snapshot needs
    assert result.other_outputs == {str(b.resolve()): len(_needed_by(night_one_b.manifest))}
    assert _needed_by(night_one_b.manifest) <= set(RawStore(raw).objects())
    rebuilt = rebuild(
        offline_settings(tmp_path / "rb"), night_one_b.snapshot, raw_dir=raw, into=tmp_path / "rb"
    )
    assert parquet_bytes(rebuilt.build.snapshot) == parquet_bytes(night_one_b.snapshot)


def test_gc_forgets_an_output_directory_that_shared_its_raw_store_and_is_gone(tmp_path):
    raw, a, b, _ = _sharing_nights(tmp_path)
    shutil.rmtree(b)
    dry = CliRunner().invoke(
        main, ["gc", "--keep", "1", "--dry-run", "--out", str(a), "--raw-dir", str(raw)]
    )
    assert f"would forget {b.resolve()}" in dry.output
    result = gc(a, raw, keep=1)
    assert result.outputs_gone == (str(b.resolve()),)
    assert served_outputs(raw) == [a.resolve()]


def test_a_build_from_the_shipped_demo_store_notes_nothing_in_it(tmp_path):
    demo_snapshot(tmp_path / "out")
    assert served_outputs(ROOT / "pipeline" / "demo" / "raw") == []
