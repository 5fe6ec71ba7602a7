"""Every reader refuses a file the manifest does not vouch for, by name."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.errors import UsageError, VerifyError
from pipeline.load.manifest import content_hash
from pipeline.load.parquet import PARQUET_OPTIONS
from pipeline.load.reader import open_snapshot, snapshot_view
from pipeline.load.snapshot import SnapshotWriter
from pipeline.models import Category
from tests.support import bare_manifest, flip_a_data_page_byte

CATEGORY = Category("therapy", "Therapy", "therapy[filter]")
CONCEPTS = pa.table(
    {"cui": ["C4725027"], "uid": pa.array([1662593], pa.int64()), "name": ["Refractory"]}
)
CITATIONS = pa.table(
    {"cui": ["C4725027"] * 3, "rank": [1, 2, 3], "authors_display": ["Essajee NM", "Dai Y", "X"]}
)
CITATIONS_FILE = "citations/category=therapy/part-0.parquet"


def publish(out: Path) -> Path:
    writer = SnapshotWriter(out)
    writer.add("concepts/part-0.parquet", CONCEPTS)
    writer.add(CITATIONS_FILE, CITATIONS)
    path, _ = writer.publish(bare_manifest([CATEGORY]))
    return path


def test_an_untouched_snapshot_reads_back(tmp_path):
    view = snapshot_view(publish(tmp_path), "C4725027")
    assert [r["authors_display"] for r in view.citations["therapy"]] == ["Essajee NM", "Dai Y", "X"]


def test_a_data_page_flipped_in_a_published_file_is_refused_naming_it(tmp_path):
    snapshot = publish(tmp_path)
    flip_a_data_page_byte(snapshot / CITATIONS_FILE, 2)
    with pytest.raises(VerifyError, match=CITATIONS_FILE) as info:
        snapshot_view(snapshot, "C4725027")
    assert info.value.exit_code == 65


def test_a_rewritten_file_with_changed_values_is_refused(tmp_path):
    """A well-formed file, checksums and all: only the manifest's size and sha256 catch it."""
    snapshot = publish(tmp_path)
    changed = CITATIONS.set_column(2, "authors_display", pa.array(["Kssajee NM", "Dai Y", "X"]))
    pq.write_table(changed, snapshot / CITATIONS_FILE, **PARQUET_OPTIONS)
    with pytest.raises(VerifyError, match=f"refusing .*{CITATIONS_FILE}.*sha256"):
        snapshot_view(snapshot, "C4725027")


def test_a_file_of_another_size_is_refused_before_it_is_read(tmp_path):
    snapshot = publish(tmp_path)
    with (snapshot / CITATIONS_FILE).open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(VerifyError, match="bytes, manifest says"):
        snapshot_view(snapshot, "C4725027")


def test_a_changed_footer_is_refused(tmp_path):
    snapshot = publish(tmp_path)
    path = snapshot / CITATIONS_FILE
    data = bytearray(path.read_bytes())
    data[-20] ^= 0x01  # inside the footer's metadata, not a page
    path.write_bytes(bytes(data))
    with pytest.raises(VerifyError, match=CITATIONS_FILE):
        snapshot_view(snapshot, "C4725027")


def test_a_concept_the_snapshot_lacks_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="C0000001"):
        snapshot_view(publish(tmp_path), "C0000001")


def forge(snapshot: Path, **fields: object) -> None:
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest.update(fields)
    manifest["content_hash"] = content_hash(manifest)
    (snapshot / "manifest.json").write_text(json.dumps(manifest))


THERAPY = {"name": "therapy", "heading": "Therapy", "term": "therapy[filter]"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (None, "'categories' is not an object"),
        ("therapy", "'categories.config' is not a list"),
        ([{"name": "therapy"}], r"'categories.config\[0\].heading' is missing"),
        ([{**THERAPY, "group": 3}], r"'categories.config\[0\].group' is not text or null"),
        ([{**THERAPY, "name": "../../x"}], "lists no citations/category=../../x"),
    ],
)
def test_a_malformed_category_list_is_refused_naming_it(tmp_path, config, message):
    snapshot = publish(tmp_path)
    written = json.loads((snapshot / "manifest.json").read_text())["categories"]
    forge(snapshot, categories=None if config is None else {**written, "config": config})
    with pytest.raises(VerifyError, match=message):
        snapshot_view(snapshot, "C4725027")


def test_an_edited_manifest_is_refused_by_readers_too(tmp_path):
    snapshot = publish(tmp_path)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["categories"]["config"][0]["heading"] = "Edited"
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(VerifyError, match="content_hash"):
        open_snapshot(snapshot)
