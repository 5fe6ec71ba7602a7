import os
import time

import pytest

from pipeline.errors import RawStoreCorruptError, SnapshotError
from pipeline.extract.rawstore import RawStore, RunJournal, atomic_write
from pipeline.extract.request import EutilsRequest

REQ = EutilsRequest.make("einfo", db="pubmed")


def test_raw_store_round_trips_a_body(tmp_path):
    store = RawStore(tmp_path)
    stored = store.put(REQ, b"<eInfoResult/>")
    hit = store.get(REQ)
    assert hit is not None
    body, meta = hit
    assert body == b"<eInfoResult/>"
    assert meta == stored
    assert (tmp_path / "einfo" / f"{REQ.key}.xml").exists()


def test_raw_store_misses_an_unknown_request(tmp_path):
    assert RawStore(tmp_path).get(REQ) is None


def test_a_body_that_does_not_match_its_sidecar_is_reported_corrupt_naming_the_entry(tmp_path):
    store = RawStore(tmp_path)
    store.put(REQ, b"<eInfoResult/>")
    body = tmp_path / "einfo" / f"{REQ.key}.xml"
    body.write_bytes(b"<eInfoResulT/>")  # one byte changed
    with pytest.raises(RawStoreCorruptError, match="is corrupt") as info:
        store.get(REQ)
    assert info.value.path == str(body)
    assert str(body) in str(info.value)
    assert "einfo db=pubmed" in str(info.value)
    assert info.value.exit_code == 74


def test_a_put_that_fails_before_its_sidecar_leaves_no_entry_rather_than_a_corrupt_one(tmp_path):
    # As a kill between the two writes would: the old sidecar went first.
    store = RawStore(tmp_path)
    store.put(REQ, b"<eInfoResult/>")
    body = tmp_path / "einfo" / f"{REQ.key}.xml"
    body.unlink()
    body.mkdir()  # the new body cannot be renamed into place
    with pytest.raises(SnapshotError):
        store.put(REQ, b"<eInfoResult><DbInfo/></eInfoResult>")
    assert store.get(REQ) is None


def test_orphan_temporary_files_of_the_store_are_removed_and_nothing_else(tmp_path):
    store = RawStore(tmp_path)
    store.put(REQ, b"<eInfoResult/>")
    key = REQ.key
    orphans = [
        tmp_path / "einfo" / f".{key}.xml.k3j_x9ab.tmp",
        tmp_path / "einfo" / f".{key}.json.a1b2c3d4.tmp",
        tmp_path / "runs" / ".0123456789abcdef01234567.json.zz99yy88.tmp",
    ]
    kept = [
        tmp_path / "einfo" / "notes.tmp",  # not a name the store gives
        tmp_path / "einfo" / f".{key}.txt.a1b2c3d4.tmp",
        tmp_path / "elsewhere" / f".{key}.xml.k3j_x9ab.tmp",  # not a store directory
        tmp_path / f".{key}.xml.k3j_x9ab.tmp",
    ]
    for path in orphans + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    removed = store.remove_orphan_temps()
    assert sorted(removed) == sorted(orphans)
    assert all(p.exists() for p in kept)
    assert store.get(REQ) is not None


def test_orphan_temporary_files_younger_than_the_grace_period_are_kept(tmp_path):
    store = RawStore(tmp_path)
    young = tmp_path / "einfo" / f".{REQ.key}.xml.k3j_x9ab.tmp"
    old = tmp_path / "einfo" / f".{REQ.key}.json.k3j_x9ab.tmp"
    atomic_write(young, b"half")
    atomic_write(old, b"half")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert store.remove_orphan_temps(older_than=600) == [old]
    assert young.exists()


def test_raw_store_sidecar_never_holds_identity_parameters(tmp_path):
    req = EutilsRequest.make("einfo", db="pubmed", api_key="KEY-123", email="me@x.org")
    RawStore(tmp_path).put(req, b"<eInfoResult/>")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"KEY-123" not in path.read_bytes()
            assert b"me@x.org" not in path.read_bytes()


def test_raw_store_remembers_which_run_fetched_a_body(tmp_path):
    store = RawStore(tmp_path)
    store.put(REQ, b"<eInfoResult/>", run="run-a")
    hit = store.get(REQ)
    assert hit is not None
    assert hit[1].run == "run-a"


def test_a_run_marker_gives_the_same_token_until_discarded(tmp_path):
    journal = RunJournal(RawStore(tmp_path), "abc")
    token, resuming = journal.start()
    assert token.startswith("abc-")
    assert not resuming
    assert journal.start() == (token, True)
    journal.discard()
    fresh, resuming = journal.start()
    assert fresh != token
    assert not resuming


def test_a_torn_run_marker_starts_a_new_run(tmp_path):
    journal = RunJournal(RawStore(tmp_path), "abc")
    journal.path.parent.mkdir(parents=True)
    journal.path.write_text('{"tok')
    _, resuming = journal.start()
    assert not resuming
