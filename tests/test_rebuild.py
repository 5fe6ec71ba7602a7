"""Snapshots rebuilt offline from the answers their manifests name, byte for byte,
after later nights stored newer answers to the same requests (tests/fakes/nights.py)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.errors import OfflineMissError, UsageError
from pipeline.extract.objects import decompress
from pipeline.extract.rawstore import ANSWERS, OBJECTS, RawStore
from pipeline.load.snapshot import current_snapshot
from pipeline.rebuild import rebuild
from tests.conftest import ROOT
from tests.fakes.eutils_server import FakeEutils
from tests.fakes.nights import offline_settings, parquet_bytes, rebuild_night, three_nights
from tests.fakes.world import report_world
from tests.support import demo_snapshot


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Three published nights in one output directory, and the fake that served them."""
    out = tmp_path_factory.mktemp("nights") / "out"
    world = report_world()
    with FakeEutils(world) as fake:
        yield out, three_nights(out, fake, world), fake


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
    result = rebuild_night(out, one, tmp_path / "rebuilt")
    assert len(fake.requests) == sent  # offline: nothing asked
    assert result.differing == ()
    assert parquet_bytes(result.build.snapshot) == parquet_bytes(one.snapshot)
    assert result.build.manifest["responses"] == one.manifest["responses"]
    assert current_snapshot(out) == three.snapshot  # the original directory is untouched
    assert current_snapshot(tmp_path / "rebuilt") == result.build.snapshot


def test_rebuilding_night_2_gives_night_2s_parquet_byte_for_byte(nights, tmp_path):
    out, (_, two, _), _ = nights
    result = rebuild_night(out, two, tmp_path / "rebuilt")
    assert parquet_bytes(result.build.snapshot) == parquet_bytes(two.snapshot)


def test_a_rebuild_into_the_originals_own_output_directory_is_refused(nights):
    out, (one, _, _), _ = nights
    with pytest.raises(UsageError, match="give another --into"):
        rebuild_night(out, one, out)


def test_a_rebuild_whose_answer_is_gone_names_it_and_fails_66(nights, tmp_path):
    out, (one, _, _), _ = nights
    raw = tmp_path / "raw"
    shutil.copytree(out / "raw", raw)
    efetch = next(r for r in one.manifest["responses"] if r["utility"] == "efetch")
    (raw / OBJECTS / efetch["sha256"]).unlink()
    settings = offline_settings(tmp_path / "rebuilt")
    with pytest.raises(OfflineMissError) as info:
        rebuild(settings, one.snapshot, raw_dir=raw, into=tmp_path / "rebuilt")
    assert info.value.exit_code == 66
    assert efetch["sha256"][:12] in str(info.value)


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
