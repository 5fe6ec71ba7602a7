"""verify treats a manifest as untrusted input: nothing outside the snapshot is opened."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pipeline.errors import NoSnapshotError, VerifyError
from pipeline.load.manifest import content_hash, path_problem
from pipeline.load.parquet import write_parquet
from pipeline.load.snapshot import SnapshotWriter, verify
from tests.support import bare_manifest


def publish(out: Path) -> Path:
    writer = SnapshotWriter(out)
    writer.add("articles/part-0.parquet", pa.table({"pmid": pa.array([1, 2], pa.int64())}))
    path, _ = writer.publish(bare_manifest())
    return path


def rewrite(snapshot: Path, edit: Any) -> None:
    """Edit the manifest and give it a matching content_hash, as a careful forger would."""
    manifest = json.loads((snapshot / "manifest.json").read_text())
    edit(manifest)
    manifest["content_hash"] = content_hash(manifest)
    (snapshot / "manifest.json").write_text(json.dumps(manifest))


def outside_parquet(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A well-formed Parquet file outside the snapshot, with its true manifest entry."""
    entry = write_parquet(pa.table({"x": [1]}), tmp_path / "elsewhere" / "secret.parquet")
    path = tmp_path / "elsewhere" / "secret.parquet"
    return path, {"rows": entry.rows, "bytes": entry.bytes, "sha256": entry.sha256}


@pytest.mark.parametrize(
    ("rel", "problem"),
    [
        ("articles/part-0.parquet", None),
        ("citations/category=therapy/part-0.parquet", None),
        ("/etc/hostname", "absolute"),
        ("../../etc/passwd", "normalized"),
        ("articles/../../x", "normalized"),
        ("articles//part-0.parquet", "normalized"),
        ("./articles/part-0.parquet", "normalized"),
        ("articles/", "normalized"),
        ("a\x00b", "control"),
        ("a\nb", "control"),
        ("a\\..\\b", "backslash"),
        ("", "non-empty"),
        ("manifest.json", "manifest"),
    ],
)
def test_path_problem_accepts_only_normalized_relative_paths(rel, problem):
    found = path_problem(rel)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_verify_refuses_an_absolute_path_even_when_its_checksums_match(tmp_path):
    snapshot = publish(tmp_path / "out")
    target, entry = outside_parquet(tmp_path)
    rewrite(snapshot, lambda m: m["files"].update({str(target): entry}))
    with pytest.raises(VerifyError, match="absolute path") as info:
        verify(snapshot)
    assert entry["sha256"][:12] not in str(info.value)


def test_verify_refuses_a_path_climbing_out_of_the_snapshot(tmp_path):
    snapshot = publish(tmp_path / "out")
    _, entry = outside_parquet(tmp_path)
    rel = "../../../elsewhere/secret.parquet"
    assert (snapshot / rel).resolve().is_file()
    rewrite(snapshot, lambda m: m["files"].update({rel: entry}))
    with pytest.raises(VerifyError, match="not a normalized path"):
        verify(snapshot)


@pytest.mark.parametrize("link", ["articles", "articles/part-0.parquet"])
def test_verify_does_not_follow_a_symbolic_link_out_of_the_snapshot(tmp_path, link):
    snapshot = publish(tmp_path / "out")
    target, entry = outside_parquet(tmp_path)
    real = snapshot / "articles" / "part-0.parquet"
    real.unlink()
    (snapshot / "articles").rmdir()
    if link == "articles":
        os.symlink(target.parent, snapshot / "articles")
        (target.parent / "part-0.parquet").write_bytes(target.read_bytes())
    else:
        (snapshot / "articles").mkdir()
        os.symlink(target, real)
    rewrite(snapshot, lambda m: m["files"].update({"articles/part-0.parquet": entry}))
    with pytest.raises(VerifyError, match="symbolic link"):
        verify(snapshot)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(files=["articles/part-0.parquet"]), "'files' is not an object"),
        (lambda m: m.update(files="x"), "'files' is not an object"),
        (lambda m: m.pop("files"), "'files' is not an object"),
        (lambda m: m.update(files={}), "lists no file"),
        (lambda m: m["files"].update({"articles/part-0.parquet": 3}), "is not an object"),
        (lambda m: m["files"]["articles/part-0.parquet"].update(rows="2"), "'rows'"),
        (lambda m: m["files"]["articles/part-0.parquet"].update(rows=True), "'rows'"),
        (lambda m: m["files"]["articles/part-0.parquet"].update(bytes=-1), "'bytes'"),
        (lambda m: m["files"]["articles/part-0.parquet"].update(sha256="abc"), "'sha256'"),
    ],
)
def test_a_malformed_manifest_field_is_a_verify_error_naming_it(tmp_path, edit, message):
    snapshot = publish(tmp_path / "out")
    rewrite(snapshot, edit)
    with pytest.raises(VerifyError, match=message):
        verify(snapshot)


def test_a_manifest_that_is_a_symbolic_link_is_not_followed(tmp_path):
    snapshot = publish(tmp_path / "out")
    elsewhere = tmp_path / "manifest.json"
    elsewhere.write_bytes((snapshot / "manifest.json").read_bytes())
    (snapshot / "manifest.json").unlink()
    os.symlink(elsewhere, snapshot / "manifest.json")
    with pytest.raises(VerifyError, match="symbolic link"):
        verify(snapshot)


@pytest.mark.parametrize("make", [lambda p: None, lambda p: p.mkdir()])
def test_a_directory_without_a_manifest_is_no_snapshot(tmp_path, make):
    make(tmp_path / "nothing")
    with pytest.raises(NoSnapshotError) as info:
        verify(tmp_path / "nothing")
    assert info.value.exit_code == 66
