import hashlib
import json
import os
import threading
import time

import pytest

from pipeline.errors import RawStoreCorruptError, RawStoreError
from pipeline.extract.objects import atomic_write, compress, decompress
from pipeline.extract.rawstore import RawStore, RunJournal
from pipeline.extract.request import EutilsRequest

REQ = EutilsRequest.make("einfo", db="pubmed")
BODY = b"<eInfoResult/>"
SHA = hashlib.sha256(BODY).hexdigest()


def test_raw_store_round_trips_a_body(tmp_path):
    store = RawStore(tmp_path)
    stored = store.put(REQ, b"<eInfoResult/>")
    hit = store.get(REQ)
    assert hit is not None
    body, meta = hit
    assert body == b"<eInfoResult/>"
    assert meta == stored
    assert decompress((tmp_path / "objects" / SHA).read_bytes()) == BODY
    assert (tmp_path / "answers" / "einfo" / f"{REQ.key}.json").exists()


def test_raw_store_misses_an_unknown_request(tmp_path):
    assert RawStore(tmp_path).get(REQ) is None


def test_an_object_that_does_not_hash_to_its_name_is_reported_corrupt_naming_it(tmp_path):
    store = RawStore(tmp_path)
    store.put(REQ, BODY)
    obj = tmp_path / "objects" / SHA
    obj.write_bytes(compress(b"<eInfoResulT/>"))  # one byte changed, a sound frame
    with pytest.raises(RawStoreCorruptError, match="is corrupt") as info:
        store.get(REQ)
    assert info.value.path == str(obj)
    assert str(obj) in str(info.value)
    assert "einfo db=pubmed" in str(info.value)
    assert info.value.exit_code == 74


def test_an_object_whose_compressed_bytes_are_damaged_is_reported_corrupt(tmp_path):
    store = RawStore(tmp_path)
    store.put(REQ, BODY)
    obj = tmp_path / "objects" / SHA
    data = bytearray(obj.read_bytes())
    data[len(data) // 2] ^= 0x01
    obj.write_bytes(bytes(data))
    with pytest.raises(RawStoreCorruptError, match="is corrupt"):
        store.get(REQ)


def test_a_put_of_a_damaged_object_writes_it_whole_again(tmp_path):
    store = RawStore(tmp_path)
    store.put(REQ, BODY)
    (tmp_path / "objects" / SHA).write_bytes(b"garbage")
    store.put(REQ, BODY, run="run-b")
    hit = store.get(REQ)
    assert hit is not None
    assert hit[0] == BODY


def test_a_put_that_fails_before_its_answer_leaves_the_previous_answer_whole(tmp_path):
    # As a kill between the object and the answer would.
    store = RawStore(tmp_path)
    store.put(REQ, BODY)
    newer = b"<eInfoResult><DbInfo/></eInfoResult>"
    (tmp_path / "objects" / hashlib.sha256(newer).hexdigest()).mkdir(parents=True)
    with pytest.raises(RawStoreError):
        store.put(REQ, newer)
    hit = store.get(REQ)
    assert hit is not None
    assert hit[0] == BODY


def test_the_same_body_fetched_on_many_nights_is_one_object_and_one_answer(tmp_path):
    store = RawStore(tmp_path)
    for night in range(5):
        store.put(REQ, BODY, run=f"night-{night}")
    assert list(store.objects()) == [SHA]
    [answer] = store.entry("einfo", REQ.key).answers
    assert (answer.run, answer.last_run) == ("night-0", "night-4")
    assert answer.fetched_at is not None
    assert answer.last_fetched_at is not None


def test_a_changed_body_is_a_new_answer_and_the_old_one_stays_readable(tmp_path):
    store = RawStore(tmp_path)
    store.put(REQ, BODY, run="night-1")
    newer = b"<eInfoResult><DbInfo/></eInfoResult>"
    store.put(REQ, newer, run="night-2")
    assert [a.run for a in store.entry("einfo", REQ.key).answers] == ["night-1", "night-2"]
    assert store.get(REQ)[0] == newer  # type: ignore[index]
    assert store.get(REQ, run="night-1")[0] == BODY  # type: ignore[index]
    assert store.get(REQ, sha256=SHA)[0] == BODY  # type: ignore[index]
    assert store.get(REQ, run="night-3") is None


def test_orphan_temporary_files_of_the_store_are_removed_and_nothing_else(tmp_path):
    store = RawStore(tmp_path)
    store.put(REQ, b"<eInfoResult/>")
    key = REQ.key
    orphans = [
        tmp_path / "objects" / f".{SHA}.k3j_x9ab.tmp",
        tmp_path / "answers" / "einfo" / f".{key}.json.a1b2c3d4.tmp",
        tmp_path / "einfo" / f".{key}.xml.k3j_x9ab.tmp",  # the earlier layout's
        tmp_path / "einfo" / f".{key}.json.a1b2c3d4.tmp",
        tmp_path / "runs" / ".0123456789abcdef01234567.json.zz99yy88.tmp",
    ]
    kept = [
        tmp_path / "einfo" / "notes.tmp",  # not a name the store gives
        tmp_path / "objects" / "notes.tmp",
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
    young = tmp_path / "objects" / f".{SHA}.k3j_x9ab.tmp"
    old = tmp_path / "answers" / "einfo" / f".{REQ.key}.json.k3j_x9ab.tmp"
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


# ------------------------------------------------------------------ the earlier layout


def _legacy_entry(root, request, body, run=None):
    """An entry as the earlier layout wrote it: the body, then its sidecar."""
    (root / request.utility).mkdir(parents=True, exist_ok=True)
    (root / request.utility / f"{request.key}.xml").write_bytes(body)
    meta = {
        "utility": request.utility,
        "params": request.param_dict,
        "sha256": hashlib.sha256(body).hexdigest(),
        "bytes": len(body),
        **({"run": run} if run else {}),
    }
    (root / request.utility / f"{request.key}.json").write_text(json.dumps(meta))


def test_a_store_in_the_earlier_layout_is_read_as_it_stands(tmp_path):
    _legacy_entry(tmp_path, REQ, BODY, run="old-run")
    store = RawStore(tmp_path)
    body, meta = store.get(REQ)  # type: ignore[misc]
    assert (body, meta.sha256, meta.run) == (BODY, SHA, "old-run")
    assert store.get(REQ, run="old-run") is not None
    assert store.get(REQ, sha256=SHA) is not None
    assert [e.key for e in store.entries()] == [REQ.key]


def test_an_earlier_layout_entry_is_the_oldest_answer_once_new_ones_come(tmp_path):
    _legacy_entry(tmp_path, REQ, BODY, run="old-run")
    store = RawStore(tmp_path)
    newer = b"<eInfoResult><DbInfo/></eInfoResult>"
    store.put(REQ, newer, run="new-run")
    assert [a.run for a in store.entry("einfo", REQ.key).answers] == ["old-run", "new-run"]
    assert store.get(REQ)[0] == newer  # type: ignore[index]
    assert store.get(REQ, sha256=SHA)[0] == BODY  # type: ignore[index]


def test_a_corrupt_earlier_layout_entry_is_reported_naming_its_body(tmp_path):
    _legacy_entry(tmp_path, REQ, BODY)
    body = tmp_path / "einfo" / f"{REQ.key}.xml"
    body.write_bytes(b"<eInfoResulT/>")
    with pytest.raises(RawStoreCorruptError, match="is corrupt") as info:
        RawStore(tmp_path).get(REQ)
    assert info.value.path == str(body)


def test_migrate_moves_every_earlier_entry_without_loss_and_can_run_again(tmp_path):
    other = EutilsRequest.make("einfo", db="medgen")
    _legacy_entry(tmp_path, REQ, BODY, run="old-run")
    _legacy_entry(tmp_path, other, b"<eInfoResult><x/></eInfoResult>")
    store = RawStore(tmp_path)
    before = {
        e.key: (store.get(EutilsRequest("einfo", tuple(sorted(e.params.items())))))
        for e in store.entries()
    }
    report = store.migrate()
    assert (report.entries, report.objects, report.corrupt) == (2, 2, [])
    assert not (tmp_path / "einfo").exists()
    assert store.legacy_entries() == 0
    after = {
        e.key: store.get(EutilsRequest("einfo", tuple(sorted(e.params.items()))))
        for e in store.entries()
    }
    assert after == before
    assert store.migrate().entries == 0


def test_migrate_leaves_a_corrupt_entry_where_it_is_and_reports_it(tmp_path):
    _legacy_entry(tmp_path, REQ, BODY)
    (tmp_path / "einfo" / f"{REQ.key}.xml").write_bytes(b"<eInfoResulT/>")
    report = RawStore(tmp_path).migrate()
    assert report.entries == 0
    [problem] = report.corrupt
    assert "is corrupt" in problem
    assert (tmp_path / "einfo" / f"{REQ.key}.json").exists()


# ------------------------------------------------------------------ collecting


def test_removing_objects_forgets_the_answers_naming_them_and_spares_young_ones(tmp_path):
    store = RawStore(tmp_path)
    store.put(REQ, BODY, run="night-1")
    newer = b"<eInfoResult><DbInfo/></eInfoResult>"
    store.put(REQ, newer, run="night-2")
    assert store.remove_objects({SHA}, older_than=600) == {}
    an_hour_ago = time.time() - 3600
    os.utime(tmp_path / "objects" / SHA, (an_hour_ago, an_hour_ago))
    removed = store.remove_objects({SHA}, older_than=600)
    assert list(removed) == [SHA]
    assert [a.run for a in store.entry("einfo", REQ.key).answers] == ["night-2"]
    assert store.get(REQ, sha256=SHA) is None


def test_unfinished_runs_are_the_tokens_of_the_run_markers(tmp_path):
    store = RawStore(tmp_path)
    token, _ = RunJournal(store, "abc").start()
    assert store.unfinished_runs() == {token}


def test_runs_sharing_a_store_never_lose_each_others_answers(tmp_path):
    store = RawStore(tmp_path)
    bodies = [f"<eInfoResult><DbInfo>{i}</DbInfo></eInfoResult>".encode() for i in range(8)]
    threads = [
        threading.Thread(target=store.put, args=(REQ, body), kwargs={"run": f"run-{i}"})
        for i, body in enumerate(bodies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers = store.entry("einfo", REQ.key).answers
    assert sorted(str(a.run) for a in answers) == sorted(f"run-{i}" for i in range(8))
    assert len(store.objects()) == 8


def test_a_resumed_run_keeps_the_time_it_first_started(tmp_path):
    store = RawStore(tmp_path / "raw")
    first = RunJournal(store, "run-a")
    token, resuming = first.start()
    assert not resuming
    assert first.started_at is not None
    again = RunJournal(store, "run-a")
    assert again.start() == (token, True)
    assert again.started_at == first.started_at
