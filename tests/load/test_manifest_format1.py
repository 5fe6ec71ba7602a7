"""Format 1 manifests (written before the typed manifest) are still read, verified and shown."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import main
from pipeline.load.manifest import (
    EUTILS_MODE,
    OFFLINE_MODE,
    content_hash,
    load_manifest,
    manifest_files,
    parse_manifest,
)
from pipeline.load.snapshot import verify
from tests.conftest import DEMO_DATASET, ROOT
from tests.support import demo_snapshot

FORMAT_1 = ROOT / "tests" / "data" / "manifest_v1"


def with_format_1_manifest(snapshot: Path) -> dict[str, object]:
    """Give today's demo snapshot the format 1 manifest of the same build, as that
    version would have written it for these files (see the fixtures' README)."""
    old = json.loads((FORMAT_1 / "demo-build.json").read_text("utf-8"))
    today = json.loads((snapshot / "manifest.json").read_text("utf-8"))
    old.update(files=today["files"], snapshot_id=snapshot.name)
    old["content_hash"] = content_hash(old)
    (snapshot / "manifest.json").write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")
    return dict(old)


def test_a_format_1_build_manifest_verifies_with_what_it_did_not_say_filled_in(tmp_path):
    snapshot = demo_snapshot(tmp_path)
    old = with_format_1_manifest(snapshot)
    manifest = verify(snapshot)
    assert manifest.format == 1
    assert (manifest.run, manifest.parent) == (None, None)
    assert manifest.source == "demo"
    assert "citations.pmcid" in manifest.placeholder_columns
    assert manifest.categories.mode == EUTILS_MODE
    assert manifest.categories.sha256 == old["categories"]["sha256"]  # type: ignore[index]
    assert sum(manifest.categories.rows.values()) == sum(
        c.rows for c in manifest.categories.per_concept.values()
    )
    assert manifest.pmids.balanced
    assert manifest.content_hash == old["content_hash"]


def test_show_and_report_read_a_format_1_snapshot(tmp_path):
    out = tmp_path / "out"
    with_format_1_manifest(demo_snapshot(out))
    runner = CliRunner()
    shown = runner.invoke(main, ["show", "C4725027", "--out", str(out), "--limit", "5"])
    assert shown.exit_code == 0, shown.output
    expected = (DEMO_DATASET / "expected-show-limit5.txt").read_text("utf-8")
    assert shown.stdout.rstrip("\n") == expected.rstrip("\n")
    page = tmp_path / "report.html"
    made = runner.invoke(main, ["report", "--out", str(out), "--html", str(page)])
    assert made.exit_code == 0, made.output
    assert "source</dt><dd>demo" in page.read_text("utf-8")


def test_a_format_1_bulk_manifest_reads_without_input_file_hashes():
    where = FORMAT_1 / "bulk.json"
    data = json.loads(where.read_text("utf-8"))
    assert content_hash(data) == data["content_hash"]  # the hash format 1 wrote still holds
    manifest = parse_manifest(where, data, manifest_files(where.parent, data))
    assert manifest.source == "bulk"
    assert manifest.categories.mode == OFFLINE_MODE
    assert manifest.categories.sha256 is None
    assert manifest.bulk is not None
    assert [(f.name, f.records, f.deletions) for f in manifest.bulk.files] == [
        ("pubmed26n0001.xml.gz", 19, 0),
        ("pubmed26n0002.xml.gz", 2, 1),
    ]
    assert all(f.sha256 is None and f.bytes is None for f in manifest.bulk.files)
    assert (manifest.bulk.medgen_files, manifest.bulk.concept_files) == ((), None)
    assert (dict(manifest.ncbi), manifest.responses, manifest.run) == ({}, (), None)
    assert manifest.concepts.all is False
    assert manifest.pmids.balanced


def test_load_manifest_and_verify_agree_on_a_format_2_snapshot(tmp_path):
    snapshot = demo_snapshot(tmp_path)
    assert load_manifest(snapshot) == verify(snapshot)
    assert load_manifest(snapshot).format == 2
