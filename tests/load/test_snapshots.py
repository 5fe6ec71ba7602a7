"""Listing and removing the snapshots of an output directory."""

import os

import pytest

from pipeline.errors import SnapshotError
from pipeline.load import layout
from pipeline.load.snapshots import list_snapshots, older_than_kept, remove_snapshots
from tests.support import demo_snapshot


def test_snapshots_never_made_current_are_not_listed(tmp_path):
    first = demo_snapshot(tmp_path)
    orphan = first.parent / "20200101T000000Z-0123456789ab"
    orphan.mkdir()
    assert [s.id for s in list_snapshots(tmp_path)] == [first.name]


def test_a_directory_written_before_the_history_existed_lists_all_its_snapshots(tmp_path):
    first = demo_snapshot(tmp_path)
    second = demo_snapshot(tmp_path)
    (tmp_path / "snapshots" / layout.HISTORY).unlink()
    assert [s.id for s in list_snapshots(tmp_path)] == [first.name, second.name]


def test_older_than_kept_spares_the_newest_and_current(tmp_path):
    first, second, third = (demo_snapshot(tmp_path) for _ in range(3))
    snapshots = list_snapshots(tmp_path)
    assert [s.id for s in older_than_kept(snapshots, 1)] == [first.name, second.name]
    assert older_than_kept(snapshots, 3) == []
    assert third.name == layout.current_name(tmp_path)


def test_removing_snapshots_rewrites_the_history_and_never_removes_current(tmp_path):
    first = demo_snapshot(tmp_path)
    second = demo_snapshot(tmp_path)
    with pytest.raises(SnapshotError, match="it is current"):
        remove_snapshots(tmp_path, [second.name])
    remove_snapshots(tmp_path, [first.name])
    assert not first.exists()
    assert layout.published(tmp_path) == {second.name}
    assert [e for e in os.listdir(tmp_path / "snapshots") if e.startswith(".staging")] == []
