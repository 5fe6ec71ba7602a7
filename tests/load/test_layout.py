"""The output directory: only the pipeline's own paths are replaced or removed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from pipeline.errors import ForeignPathError
from pipeline.load.layout import check_output, claim_output, published
from pipeline.load.snapshot import SnapshotWriter, current_snapshot, verify
from tests.conftest import ROOT
from tests.support import bare_manifest, made_under_umask

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def publish(out: Path, rows: int = 3, now: datetime = NOW) -> Path:
    writer = SnapshotWriter(out)
    writer.add("articles/part-0.parquet", pa.table({"pmid": pa.array(range(rows), pa.int64())}))
    path, _ = writer.publish(bare_manifest(), now)
    return path


def tree(path: Path) -> dict[str, str]:
    """Every path under ``path`` and what it is (a link's target), to compare before and after."""
    found = {}
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).as_posix()
        found[rel] = f"-> {os.readlink(p)}" if p.is_symlink() else ("dir" if p.is_dir() else "file")
    return found


def _file(p: Path) -> None:
    p.write_text("the user's notes\n")


def _dir(p: Path) -> None:
    p.mkdir()
    (p / "keep.txt").write_text("mine\n")


def _link_elsewhere(p: Path) -> None:
    (p.parent.parent / "elsewhere").mkdir(exist_ok=True)
    os.symlink(p.parent.parent / "elsewhere", p)


FOREIGN: list[tuple[str, Callable[[Path], None]]] = [
    ("current", _file),
    ("current", _dir),
    ("current", _link_elsewhere),
    ("snapshots", _file),
    ("snapshots", _link_elsewhere),
    ("raw", _file),
    ("raw", _link_elsewhere),
    (".lock", _dir),
    (".lock", _link_elsewhere),
    ("sides", _file),
    (".input-digests.json", _dir),
]


@pytest.mark.parametrize(("name", "make"), FOREIGN)
def test_a_path_the_pipeline_did_not_make_is_refused_and_left_alone(tmp_path, name, make):
    out = tmp_path / "out"
    out.mkdir()
    make(out / name)
    before = tree(tmp_path)
    with (
        pytest.raises(ForeignPathError, match=str(out / name)) as info,
        claim_output(out, raw_dir=out / "raw"),
    ):
        pytest.fail("claimed an output directory holding a foreign path")
    assert info.value.exit_code == 74
    assert tree(tmp_path) == before


def test_an_output_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(ForeignPathError, match="output directory"):
        check_output(tmp_path / "out")


def test_the_pipelines_own_layout_is_accepted(tmp_path):
    publish(tmp_path)
    (tmp_path / "raw").mkdir()
    (tmp_path / ".lock").touch()
    check_output(tmp_path, tmp_path / "raw")


def test_a_raw_dir_named_elsewhere_may_be_a_symbolic_link(tmp_path):
    (tmp_path / "store").mkdir()
    os.symlink(tmp_path / "store", tmp_path / "link")
    check_output(tmp_path / "out", tmp_path / "link")


def test_two_publishes_in_one_second_with_the_same_content_get_two_snapshots(tmp_path):
    first = publish(tmp_path)
    second = publish(tmp_path)
    assert second.name == f"{first.name}-2"
    assert current_snapshot(tmp_path) == second
    verify(first)
    verify(second)
    assert published(tmp_path) == {first.name, second.name}


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_a_published_snapshot_follows_the_umask(tmp_path, umask):
    made_under_umask(umask, lambda: publish(tmp_path))


def test_stale_staging_work_dirs_and_temporary_links_are_removed(tmp_path):
    publish(tmp_path)
    (tmp_path / "snapshots" / ".staging-abcd1234").mkdir()
    (tmp_path / "snapshots" / ".staging-abcd1234" / "x.parquet").write_bytes(b"x")
    (tmp_path / ".bulk-0123456789abcdef").mkdir()
    (tmp_path / "sides" / ".staging-0123abcd").mkdir(parents=True)  # a side gc was killed writing
    (tmp_path / ".input-digests.json.4242.tmp").write_text("{")  # a cache being written
    os.symlink("snapshots/whatever", tmp_path / ".current-4242")
    with claim_output(tmp_path):
        pass
    assert not (tmp_path / "snapshots" / ".staging-abcd1234").exists()
    assert not (tmp_path / "sides" / ".staging-0123abcd").exists()
    assert not (tmp_path / ".input-digests.json.4242.tmp").exists()
    assert not (tmp_path / ".bulk-0123456789abcdef").exists()
    assert not os.path.lexists(tmp_path / ".current-4242")


def test_what_only_looks_like_a_leftover_is_left_alone(tmp_path):
    publish(tmp_path)
    _file(tmp_path / ".current-4242")  # a file, not our link
    _file(tmp_path / "snapshots" / ".staging-notes")  # a file, not a directory
    _dir(tmp_path / "snapshots" / "my-old-exports")  # no snapshot name
    _dir(tmp_path / "snapshots" / "20260101T000000Z-aaaaaaaaaaaa")  # no manifest
    before = tree(tmp_path)
    with claim_output(tmp_path):
        pass
    assert {k: v for k, v in tree(tmp_path).items() if not k.startswith(".lock")} == before


def test_snapshots_that_were_once_current_are_kept(tmp_path):
    first = publish(tmp_path, rows=1)
    second = publish(tmp_path, rows=2)
    with claim_output(tmp_path):
        pass
    assert first.is_dir()
    assert second.is_dir()


@pytest.mark.parametrize("claimed_first", [True, False])
def test_an_output_directory_from_before_the_history_keeps_every_snapshot(tmp_path, claimed_first):
    first = publish(tmp_path, rows=1)
    second = publish(tmp_path, rows=2)
    (tmp_path / "snapshots" / ".published").unlink()
    if claimed_first:
        with claim_output(tmp_path):
            pass
    third = publish(tmp_path, rows=3)
    with claim_output(tmp_path):
        pass
    assert all(p.is_dir() for p in (first, second, third))
    assert published(tmp_path) == {first.name, second.name, third.name}


# Each step of publishing, and a stand-in for `kill -9` right there: the child
# process wraps one os function (never our code) so that the process SIGKILLs
# itself before or after the call that makes that step.
KILL_STEPS = {
    "reserved": ("mkdir", "after", "snapshots/2"),
    "manifest": ("replace", "before", ".staging-"),
    "renamed": ("replace", "after", ".staging-"),
    "linked": ("symlink", "after", ".current-"),
    "swapped": ("replace", "after", "/current"),
}

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import datetime, UTC
    import pyarrow as pa
    from pipeline.load.snapshot import SnapshotWriter
    from tests.support import bare_manifest

    out, name, when, needle = sys.argv[1:]
    real = getattr(os, name)

    def dying(*args, **kwargs):
        hit = any(needle in str(a) for a in args)
        if hit and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = real(*args, **kwargs)
        if hit:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    writer = SnapshotWriter(__import__("pathlib").Path(out))
    writer.add("articles/part-0.parquet", pa.table({"pmid": pa.array([7, 8], pa.int64())}))
    setattr(os, name, dying)
    writer.publish(bare_manifest(), datetime(2026, 11, 28, tzinfo=UTC))
    """
)


@pytest.mark.parametrize("step", list(KILL_STEPS))
def test_a_kill_at_each_publishing_step_is_cleaned_up_by_the_next_run(tmp_path, step):
    once_current = publish(tmp_path, rows=1)
    previous = publish(tmp_path, rows=2)
    name, when, needle = KILL_STEPS[step]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), name, when, needle],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == -9, child.stderr
    survivor = current_snapshot(tmp_path)
    assert survivor == previous or step == "swapped"
    verify(survivor)
    left = {p.name for p in (tmp_path / "snapshots").iterdir()}
    if step == "swapped":
        assert survivor.name not in published(tmp_path)  # killed before its record
    else:
        assert left - {".published", once_current.name, previous.name}  # a leftover to clean

    with claim_output(tmp_path):
        pass

    snapshots = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert snapshots == sorted({".published", once_current.name, previous.name, survivor.name})
    assert survivor.name in published(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".current-")]
    after = publish(tmp_path, rows=4)
    assert current_snapshot(tmp_path) == after
    assert all(p.is_dir() for p in (once_current, previous, survivor))
