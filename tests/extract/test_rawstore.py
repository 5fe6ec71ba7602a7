from pipeline.extract.rawstore import RawStore, RunJournal
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


def test_raw_store_ignores_a_body_that_does_not_match_its_sidecar(tmp_path):
    store = RawStore(tmp_path)
    store.put(REQ, b"<eInfoResult/>")
    (tmp_path / "einfo" / f"{REQ.key}.xml").write_bytes(b"<eInfoRes")
    assert store.get(REQ) is None


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
