import json
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from pipeline.errors import VerifyError
from pipeline.load.manifest import content_hash, manifest_object
from pipeline.load.parquet import write_parquet_stream
from pipeline.load.snapshot import SnapshotWriter, current_snapshot, verify
from tests.support import bare_manifest

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def table(n: int) -> pa.Table:
    return pa.table({"pmid": pa.array(range(n), pa.int64())})


def publish(out, rows=3, now=NOW):
    writer = SnapshotWriter(out)
    writer.add("articles/part-0.parquet", table(rows))
    path, manifest = writer.publish(bare_manifest(), now)
    return path, manifest_object(manifest)


def test_publish_writes_manifest_and_points_current_at_the_snapshot(tmp_path):
    path, manifest = publish(tmp_path)
    assert current_snapshot(tmp_path) == path
    assert manifest["files"]["articles/part-0.parquet"]["rows"] == 3
    assert json.loads((path / "manifest.json").read_text()) == manifest
    assert path.name == f"20261127T120000Z-{manifest['content_hash'][:12]}"
    verify(path)


def test_content_hash_leaves_out_wall_clock_values(tmp_path):
    _, first = publish(tmp_path / "a", now=NOW)
    _, second = publish(tmp_path / "b", now=datetime(2027, 1, 1, tzinfo=UTC))
    assert first["content_hash"] == second["content_hash"]
    assert first["files"] == second["files"]
    assert content_hash(first) == first["content_hash"]


def test_a_failed_publish_leaves_current_and_no_staging(tmp_path):
    old, _ = publish(tmp_path, rows=1)
    writer = SnapshotWriter(tmp_path)
    writer.add("articles/part-0.parquet", table(5))
    with pytest.raises(TypeError):
        writer.publish(bare_manifest(versions={"unserializable": object()}), NOW)
    assert current_snapshot(tmp_path) == old
    assert list((tmp_path / "snapshots").glob(".staging-*")) == []
    assert [p.name for p in (tmp_path / "snapshots").glob("2*")] == [old.name]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "articles" / "part-0.parquet").unlink(), "missing"),
        (lambda p: (p / "articles" / "extra.parquet").write_bytes(b"x"), "not listed"),
        (lambda p: (p / "manifest.json").write_text("{"), "unreadable"),
    ],
)
def test_verify_names_what_is_wrong(tmp_path, damage, message):
    path, _ = publish(tmp_path)
    damage(path)
    with pytest.raises(VerifyError, match=message):
        verify(path)


def test_verify_detects_an_edited_manifest(tmp_path):
    path, manifest = publish(tmp_path)
    manifest["source"] = "demo"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(VerifyError, match="content_hash"):
        verify(path)


def test_a_stream_file_depends_on_its_rows_not_on_empty_parts(tmp_path):
    schema = pa.schema([pa.field("n", pa.int64())])
    empty, rows = schema.empty_table(), pa.table({"n": [1, 2]}, schema=schema)
    files = [
        write_parquet_stream(schema, parts, tmp_path / f"{i}.parquet")
        for i, parts in enumerate([[], [empty], [empty, rows, empty], [rows]])
    ]
    assert files[0] == files[1]
    assert files[2] == files[3]
    assert files[3].rows == 2
