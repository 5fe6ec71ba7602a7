"""A server that lies, and a raw store that was damaged: the truth is published or nothing.

Every case first publishes a clean build (the truth) into ``out``, then builds again from
scratch against a fake E-utilities server telling one lie. Either the new snapshot holds
exactly the clean build's files (and the manifest says what was odd), or the run fails with
the documented exit code and a message naming the request, and ``out/current`` still points
at the clean snapshot, every byte the same.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_settings
from pipeline.errors import MedgenEtlError, OfflineMissError, ResponseFormatError
from pipeline.extract.rawstore import Entry, RawStore
from pipeline.extract.request import EutilsRequest
from pipeline.load.manifest import CHANGES_FILE
from pipeline.runner import BuildResult, build
from tests.conftest import ROOT
from tests.fakes.dataset import Dataset, FakeConcept, pubmed_article
from tests.fakes.eutils_server import UNASKED_PMID, FakeEutils, Fault, LieKind
from tests.support import (
    TEST_EMAIL,
    latest_body,
    latest_object,
    live_settings,
    options,
    retry_policy,
    stored_entries,
)

FAST_RETRY = retry_policy(max_attempts=3, initial_wait=0.01, max_wait=0.02, jitter=0.01)
CUI = "C0000001"
PMIDS = range(1001, 1049)  # 48 linked citations


def hostile_dataset() -> Dataset:
    articles = [
        pubmed_article(p, year=2000 + p % 20, month=1 + p % 12, day=1 + p % 28, title=f"T{p}.")
        for p in PMIDS
    ]
    terms = [c.term for c in load_settings(env={}).categories]
    # Categories of 48, 36, 24, ... citations, and one with none.
    filters = {term: list(PMIDS)[: 48 - 12 * i] if i < 4 else [] for i, term in enumerate(terms)}
    concept = FakeConcept(uid=1, concept_id=CUI, title="Hostile")
    return Dataset([concept], articles, {1: PMIDS}, filters)


@pytest.fixture
def fake():
    with FakeEutils(hostile_dataset()) as server:
        yield server


def run(fake: FakeEutils, out: Path, minute: int, page_size: int, **kw: Any) -> BuildResult:
    settings = live_settings(fake, out, retry=FAST_RETRY, search_page_size=page_size)
    when = datetime(2026, 12, 1, 8, minute, tzinfo=UTC)
    return build(settings, options(out, CUI, **kw), now=when)


def published(out: Path) -> tuple[str, dict[str, str]]:
    """Where ``current`` points, and the sha256 of every file it holds."""
    current = out / "current"
    files = {
        str(p.relative_to(current)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(current.rglob("*"))
        if p.is_file()
    }
    return os.readlink(current), files


def data_files(manifest: dict[str, Any]) -> dict[str, str]:
    """Every file but the changes table, which is told against each run's parent."""
    files = manifest["files"].items()
    return {path: entry["sha256"] for path, entry in files if path != CHANGES_FILE}


# ------------------------------------------------------------------ the lies


@dataclass(frozen=True)
class Case:
    lie: LieKind
    times: int | None  # None: every answer lies
    page_size: int
    truth: bool  # True: the truth is published; False: the run is refused
    says: str  # in the failure's message, or in a manifest warning ("": no warning)
    logs: str = ""


CASES = [
    # Lies that persist are refused, naming the request (its term and retstart).
    Case("repeat_ids", None, 9999, False, "ids repeat ids of the same page"),
    Case("repeat_ids", None, 10, False, "ids repeat ids of the same page"),
    Case("high_count", None, 9999, False, "ids on the page"),
    Case("high_count", None, 10, False, "ids on the page"),
    Case("short_pages", None, 9999, False, "ids on the page"),
    Case("short_pages", None, 10, False, "ids on the page"),
    # A lie that asking again cures is not published either: the truth is.
    Case("repeat_ids", 1, 9999, True, ""),
    Case("high_count", 2, 10, True, "", "searching again from the first page"),
    Case("short_pages", 1, 10, True, ""),
    # efetch: the first copy of a PMID is kept, an unasked record is not loaded; both noted.
    Case("duplicate_pmid", None, 9999, True, "efetch: PMID 1001 appears again; kept the first"),
    Case("unasked_pmid", None, 9999, True, f"efetch returned PMID {UNASKED_PMID}, which its"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.lie}-x{c.times}-page{c.page_size}")
def test_a_lying_server_gets_the_truth_published_or_a_refusal_naming_the_request(
    fake, tmp_path, caplog, case
):
    out = tmp_path / "out"
    clean = run(fake, out, 0, case.page_size)
    before = published(out)
    fake.lie(case.lie, times=case.times)
    if case.truth:
        result = run(fake, out, 1, case.page_size, fresh=True)
        assert fake.lies_told(case.lie) >= 1
        assert data_files(result.manifest) == data_files(clean.manifest)
        assert os.readlink(out / "current") != before[0]
        warnings = result.manifest["warnings"]
        assert [w for w in warnings if case.says in w] if case.says else warnings == []
        _assert_accounted(result.manifest)
        assert case.logs in caplog.text
        return
    with pytest.raises(ResponseFormatError) as info:
        run(fake, out, 1, case.page_size, fresh=True)
    message = str(info.value)
    assert info.value.exit_code == 69
    assert case.says in message
    assert "esearch" in message
    assert "search '#1 AND " in message
    assert "retstart=" in message
    assert "refused" in message
    asked = [r.params for r in fake.requests_for("esearch")][-FAST_RETRY.max_attempts :]
    assert all(params == asked[0] for params in asked)  # asked again, then refused
    assert f"retstart={asked[0]['retstart']}" in message
    assert published(out) == before
    assert list((out / "snapshots").glob(".staging-*")) == []


def _assert_accounted(manifest: dict[str, Any]) -> None:
    pmids = manifest["pmids"]
    assert pmids["requested"] == pmids["loaded"] + pmids["rejected"] + pmids["missing"]
    assert pmids["requested"] == len(PMIDS)
    for entry in manifest["categories"]["per_concept"].values():
        assert entry["rows"] == entry["esearch_count"]


def test_a_lie_refused_through_the_cli_exits_69_naming_the_request(fake, tmp_path):
    out = tmp_path / "out"
    cfg = tmp_path / "hostile.toml"
    cfg.write_text(
        "[ncbi]\nrate_limit = 100.0\ntimeout = 5.0\n"
        "[retry]\nmax_attempts = 2\ninitial_wait = 0.01\nmax_wait = 0.02\njitter = 0.01\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "NCBI_EUTILS_URL": fake.base_url,
        "NCBI_EMAIL": TEST_EMAIL,
    }
    args = [sys.executable, "-m", "pipeline", "build", "--concept", CUI, "--out", str(out)]
    args += ["--config", str(cfg)]
    first = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    before = published(out)
    fake.lie("high_count")
    lied = subprocess.run([*args, "--fresh"], env=env, capture_output=True, text=True, timeout=120)
    assert lied.returncode == 69
    last = lied.stderr.strip().splitlines()[-1]
    assert "esearch" in last
    assert "ids on the page" in last
    assert "retstart=0" in last
    assert published(out) == before


# ------------------------------------------------------------------ a damaged raw store


def _interrupted(fake: FakeEutils, out: Path) -> None:
    """A run that stored its searches and then failed: the next one resumes it."""
    fake.inject("efetch", Fault.http(404))
    with pytest.raises(MedgenEtlError):
        run(fake, out, 0, 9999)


def _flip_a_byte(path: Path) -> None:
    body = bytearray(path.read_bytes())
    body[len(body) // 2] ^= 0x01
    path.write_bytes(bytes(body))


def _stored_search(out: Path, term_part: str) -> Path:
    """The object holding the latest stored answer of the search for ``term_part``."""
    return latest_object(out / "raw", _search_entry(out, term_part))


def _search_entry(out: Path, term_part: str) -> Entry:
    for entry in stored_entries(out / "raw", "esearch"):
        if term_part in entry.params.get("term", ""):
            return entry
    raise AssertionError(f"no stored search for {term_part}")


def test_a_corrupt_entry_of_a_resumed_run_is_named_and_fetched_again(fake, tmp_path, caplog):
    clean = run(fake, tmp_path / "clean", 0, 9999)
    out = tmp_path / "out"
    _interrupted(fake, out)
    damaged = _stored_search(out, "Therapy")
    _flip_a_byte(damaged)
    before = len(fake.requests_for("esearch"))
    result = run(fake, out, 1, 9999)
    assert len(fake.requests_for("esearch")) == before + 1  # only the corrupt one
    assert data_files(result.manifest) == data_files(clean.manifest)
    [warning] = [w for w in result.manifest["warnings"] if "corrupt" in w]
    assert str(damaged) in warning
    assert "fetched again" in warning
    assert str(damaged) in caplog.text


def test_offline_a_corrupt_entry_fails_66_naming_it_and_current_is_unchanged(fake, tmp_path):
    out = tmp_path / "out"
    run(fake, out, 0, 9999)
    before = published(out)
    damaged = _stored_search(out, "Therapy")
    _flip_a_byte(damaged)
    with pytest.raises(OfflineMissError) as info:
        run(fake, out, 1, 9999, offline=True)
    assert info.value.exit_code == 66
    assert str(damaged) in str(info.value)
    assert "is corrupt" in str(info.value)
    assert published(out) == before


def test_the_next_run_removes_orphan_temporary_files_of_the_raw_store_only(fake, tmp_path):
    out = tmp_path / "out"
    _interrupted(fake, out)
    stored = _stored_search(out, "Therapy")
    orphan = stored.with_name(f".{stored.name}.x1y2z3w4.tmp")
    orphan.write_bytes(b"<eSearchResult><Count>4")
    foreign = out / "raw" / "objects" / "notes.tmp"
    foreign.write_text("mine")
    run(fake, out, 1, 9999)
    assert not orphan.exists()
    assert foreign.read_text() == "mine"


def _store_a_lie(out: Path, term_part: str) -> None:
    """Store a page repeating an id as the latest answer of the run that fetched the
    page (a sound entry, not a corrupt one)."""
    entry = _search_entry(out, term_part)
    body = latest_body(out / "raw", entry)
    ids = re.findall(rb"<Id>\d+</Id>", body)
    lying = body.replace(ids[-1], ids[0])
    request = EutilsRequest(entry.utility, tuple(sorted(entry.params.items())))
    latest = entry.answers[-1]
    RawStore(out / "raw").put(request, lying, run=latest.last_run or latest.run)


def test_a_resumed_run_asks_again_for_a_stored_page_that_contradicts_itself(fake, tmp_path):
    clean = run(fake, tmp_path / "clean", 0, 9999)
    out = tmp_path / "out"
    _interrupted(fake, out)
    _store_a_lie(out, "Therapy")
    before = len(fake.requests_for("esearch"))
    result = run(fake, out, 1, 9999)
    assert len(fake.requests_for("esearch")) == before + 1
    assert data_files(result.manifest) == data_files(clean.manifest)


def test_offline_a_stored_page_that_contradicts_itself_is_refused_naming_it(fake, tmp_path):
    # As a store written by an earlier version, which kept whatever a page held.
    out = tmp_path / "out"
    run(fake, out, 0, 9999)
    before = published(out)
    _store_a_lie(out, "Therapy")
    with pytest.raises(ResponseFormatError) as info:
        run(fake, out, 1, 9999, offline=True)
    assert info.value.exit_code == 69
    assert "the stored answer is inconsistent" in str(info.value)
    assert "repeat ids of the same page" in str(info.value)
    assert "Therapy/Broad[filter]" in str(info.value)
    assert published(out) == before
