"""bulk --update: tonight's files over the current snapshot, the same tables as a full bulk."""

from __future__ import annotations

import gzip
import logging
import os
import re
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from pipeline.bulk.medgen import read_medgen
from pipeline.bulk.runner import BulkOptions, bulk_build
from pipeline.config import load_settings
from pipeline.errors import NoSnapshotError, UpdateRefusedError
from pipeline.extract.input_digests import RACY_SECONDS
from pipeline.load.snapshot import verify
from pipeline.models import Concept, ConceptRef, MedgenInput
from tests.bulk.test_bulk import (
    CUI,
    DELETED,
    VERSIONED,
    _pubmed_xml,
    rows,
    write_baseline_and_update,
)
from tests.fakes.dataset import pubmed_article
from tests.support import content_files
from tests.test_evidence import CUI as MESH_CUI
from tests.test_evidence import SUPPLEMENTARY, write_files

BUMPED, DROPPED, MOVED = 37199372, 3528962, 38905635
REJECTED, ABSENT = 40000001, 40000002  # linked; one only as an unreadable record, one nowhere
LEUKEMIA = "PLACEHOLDER-NLMID-Leukemia"


def _record(pmid: int) -> str:
    records = re.findall(r"<PubmedArticle>.*?</PubmedArticle>", _pubmed_xml(), re.S)
    found: str = next(r for r in records if f'<PMID Version="1">{pmid}</PMID>' in r)
    return found


def _titled(record: str, title: str) -> str:
    new = f"<ArticleTitle>{title}</ArticleTitle>"
    return re.sub(r"<ArticleTitle>.*?</ArticleTitle>", new, record, count=1, flags=re.S)


def _write(path: Path, body: str) -> Path:
    head = _pubmed_xml().split("<PubmedArticleSet>", 1)[0]
    xml = f"{head}<PubmedArticleSet>{body}</PubmedArticleSet>"
    path.write_bytes(gzip.compress(xml.encode(), mtime=0))  # mtime=0: the same bytes every time
    return path


def write_second_update(folder: Path) -> Path:
    """Made here, from the demo dataset: update file 0003 with a version bump, an older
    version of a record 0002 raised to version 2, a DeleteCitation, the PMID 0002
    deleted added back, a record moved to another journal, and an unreadable record."""
    bumped = _titled(_record(BUMPED), "Version two of this record.").replace(
        '<PMID Version="1">', '<PMID Version="2">', 1
    )
    stale = _titled(_record(VERSIONED), "Stale version one.")
    readded = _titled(_record(DELETED), "Added back.")
    moved = re.sub(
        r"<MedlineTA>.*?</MedlineTA>\s*<NlmUniqueID>.*?</NlmUniqueID>",
        f"<MedlineTA>Leukemia</MedlineTA><NlmUniqueID>{LEUKEMIA}</NlmUniqueID>",
        _record(MOVED),
    )
    unreadable = _record(BUMPED).replace(
        f'<PMID Version="1">{BUMPED}</PMID>', f'<PMID Version="x">{REJECTED}</PMID>', 1
    )
    deletion = f'<DeleteCitation><PMID Version="1">{DROPPED}</PMID></DeleteCitation>'
    body = f"{bumped}{stale}{readded}{moved}{unreadable}{deletion}"
    return _write(folder / "pubmed26n0003.xml.gz", body)


def medgen_input() -> MedgenInput:
    pmids = tuple(int(p) for p in re.findall(r'<PMID Version="1">(\d+)</PMID>', _pubmed_xml()))
    concept = Concept(1662593, CUI, "Refractory Acute Leukemia", None, None, None, None)
    links = {CUI: (*pmids, REJECTED, ABSENT)}
    return MedgenInput(((ConceptRef("cui", CUI), concept),), (), links)


def bulk(out: Path, ftp: Path, **kw: Any) -> tuple[Path, dict[str, Any]]:
    settings = load_settings(env={}, overrides={"out_dir": out})
    options = BulkOptions(**{"pubmed": (ftp,), "executor": "serial", **kw})
    return bulk_build(settings, medgen_input(), options)


@pytest.fixture
def nightly(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A full bulk over the baseline and update 0002 (the current snapshot), then 0003 given."""
    ftp, out = tmp_path / "ftp", tmp_path / "out"
    write_baseline_and_update(ftp)
    first, _ = bulk(out, ftp)
    write_second_update(ftp)
    return ftp, out, first


def test_update_publishes_the_tables_a_full_bulk_over_every_file_publishes(nightly, tmp_path):
    ftp, out, first = nightly
    updated, manifest = bulk(out, ftp, update=True)
    _, expected = bulk(tmp_path / "full", ftp)
    verify(updated)
    assert content_files(manifest) == content_files(expected)  # every table, by size and sha256
    assert manifest["content_hash"] == expected["content_hash"]  # and all the manifest says
    assert (manifest["run"]["mode"], expected["run"]["mode"]) == ("update", "full")
    assert manifest["parent"] == first.name
    assert [f["name"] for f in manifest["bulk"]["files"]] == [
        "pubmed26n0001.xml.gz",
        "pubmed26n0002.xml.gz",
        "pubmed26n0003.xml.gz",
    ]
    # One row group per file whose records survive, as the full run wrote them.
    assert pq.ParquetFile(updated / "articles" / "part-0.parquet").num_row_groups == 3


def test_update_honours_versions_deletions_journals_and_rejects(nightly):
    ftp, out, first = nightly
    before = {r["pmid"]: r for r in rows(first, "articles")}
    updated, manifest = bulk(out, ftp, update=True)
    articles = {r["pmid"]: r for r in rows(updated, "articles")}
    assert (articles[BUMPED]["pmid_version"], articles[BUMPED]["title"]) == (
        2,
        "Version two of this record.",
    )
    assert articles[VERSIONED]["title"] == before[VERSIONED]["title"] == "Version two."
    assert DROPPED in before
    assert DROPPED not in articles
    assert DELETED not in before
    assert articles[DELETED]["title"] == "Added back."
    journal_rows = pq.read_table(updated / "journals" / "part-0.parquet").to_pylist()
    journals = {r["nlm_id"]: r for r in journal_rows}
    assert "PLACEHOLDER-NLMID-Blood" not in journals  # its one record moved away
    assert articles[MOVED]["journal_nlm_id"] == LEUKEMIA
    assert journals[LEUKEMIA]["medline_ta"] == "Leukemia"
    rejects = pq.read_table(updated / "rejects/part-0.parquet").to_pylist()
    assert [r["pmid"] for r in rejects] == [REJECTED]
    pmids = manifest["pmids"]
    assert (pmids["requested"], pmids["loaded"], pmids["rejected"], pmids["missing"]) == (
        21,
        18,
        1,
        2,
    )
    assert pmids["missing_pmids"] == sorted([DROPPED, ABSENT])
    assert pmids["deleted_pmids"] == [DROPPED]


def test_bulk_counts_a_linked_pmid_with_only_an_unreadable_record_as_rejected(nightly, tmp_path):
    ftp, _, _ = nightly
    _, manifest = bulk(tmp_path / "full", ftp)
    pmids = manifest["pmids"]
    assert pmids["rejected"] == 1
    assert REJECTED not in pmids["missing_pmids"]
    assert pmids["requested"] == pmids["loaded"] + pmids["rejected"] + pmids["missing"] == 21


def test_an_update_extends_an_updated_snapshot_again(nightly, tmp_path):
    ftp, out, _ = nightly
    updated, _ = bulk(out, ftp, update=True)
    deletion = f'<DeleteCitation><PMID Version="1">{BUMPED}</PMID></DeleteCitation>'
    _write(ftp / "pubmed26n0004.xml.gz", _titled(_record(MOVED), "Retitled.") + deletion)
    _, manifest = bulk(out, ftp, update=True)
    _, expected = bulk(tmp_path / "full", ftp)
    assert manifest["content_hash"] == expected["content_hash"]
    assert content_files(manifest) == content_files(expected)
    # The deletion 0003 made stays, with the one 0004 makes.
    assert manifest["pmids"]["deleted_pmids"] == sorted([BUMPED, DROPPED])
    assert manifest["parent"] == updated.name


def test_an_update_with_no_new_file_publishes_nothing(nightly):
    ftp, out, _ = nightly
    updated, _ = bulk(out, ftp, update=True)
    again, manifest = bulk(out, ftp, update=True)
    assert again == updated == (out / "current").resolve()
    assert manifest["snapshot_id"] == updated.name


def test_an_update_without_a_current_snapshot_is_refused(tmp_path):
    ftp = tmp_path / "ftp"
    write_baseline_and_update(ftp)
    with pytest.raises(NoSnapshotError, match="full `medgen-etl bulk`"):
        bulk(tmp_path / "out", ftp, update=True)


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("pubmed27n0001.xml.gz", r"pubmed27n0001\.xml\.gz is a new baseline \(year 27"),
        ("baseline/pubmed26n0005.xml.gz", r"pubmed26n0005\.xml\.gz is a new baseline"),
        ("pubmed26n0000.xml.gz", r"pubmed26n0000\.xml\.gz .* comes before"),
        ("pubmed26n0002.xml.gz", r"pubmed26n0002\.xml\.gz differs .* sha256"),
    ],
    ids=["new-year", "baseline-folder", "before-the-applied", "listed-changed"],
)
def test_an_update_refuses_a_pubmed_file_it_cannot_apply_over_the_snapshot(nightly, name, said):
    ftp, out, _ = nightly
    (ftp / "baseline").mkdir()
    _write(ftp / name, _record(BUMPED))
    with pytest.raises(UpdateRefusedError, match=said):
        bulk(out, ftp, update=True, pubmed=(ftp, ftp / "baseline"))


def test_an_update_refuses_a_listed_file_that_is_gone(nightly):
    ftp, out, _ = nightly
    (ftp / "pubmed26n0001.xml.gz").unlink()
    with pytest.raises(UpdateRefusedError, match=r"pubmed26n0001\.xml\.gz, which .* is not among"):
        bulk(out, ftp, update=True)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"tables": ("articles", "authors", "citations")}, "tables"),
        ({"per_category": 3}, "per_category"),
        ({"evidence": ("medgen", "mesh")}, "evidence"),
    ],
)
def test_an_update_refuses_other_table_shaping_arguments_naming_the_one(nightly, changes, named):
    ftp, out, _ = nightly
    with pytest.raises(UpdateRefusedError, match=f"{named} was .*, now .*full `medgen-etl bulk`"):
        bulk(out, ftp, update=True, **changes)


def test_an_update_refuses_a_snapshot_without_the_articles_table(tmp_path):
    ftp, out = tmp_path / "ftp", tmp_path / "out"
    write_baseline_and_update(ftp)
    bulk(out, ftp, tables=("authors", "citations"))
    write_second_update(ftp)
    with pytest.raises(UpdateRefusedError, match=r"articles\.pmid_version"):
        bulk(out, ftp, tables=("authors", "citations"), update=True)


def test_an_update_with_mesh_evidence_gives_the_citations_a_full_bulk_gives(tmp_path):
    links, files, baseline = write_files(tmp_path / "files")
    medgen = read_medgen([ConceptRef("cui", MESH_CUI)], links, None, None, files)

    def mesh_bulk(out: Path, *pubmed: Path, update: bool = False) -> dict[str, Any]:
        settings = load_settings(env={}, overrides={"out_dir": out})
        options = BulkOptions(
            pubmed=pubmed, executor="serial", evidence=("medgen", "mesh"), update=update
        )
        return bulk_build(settings, medgen, options)[1]

    mesh_bulk(tmp_path / "out", baseline)
    # Made here: a new record indexed with the concept's supplementary concept, and a
    # linked record issued again without it (it loses its MeSH mark).
    update = tmp_path / "files" / "pubmed26n0002.xml.gz"
    body = pubmed_article(107, year=2025, supplementary=((SUPPLEMENTARY, "Rare syndrome"),))
    body += pubmed_article(102, year=2021, title="Issued again without MeSH.")
    update.write_bytes(gzip.compress(f"<PubmedArticleSet>{body}</PubmedArticleSet>".encode()))
    updated = mesh_bulk(tmp_path / "out", baseline, update, update=True)
    expected = mesh_bulk(tmp_path / "full", baseline, update)
    assert content_files(updated) == content_files(expected)
    assert updated["content_hash"] == expected["content_hash"]
    counts = updated["categories"]["per_concept"][f"{MESH_CUI}/linked"]["evidence"]
    assert counts == {"medgen_link": 2, "mesh": 4, "mesh_major": 1}  # 107 in, 102 out


def test_an_update_reads_in_full_only_the_listed_files_not_hashed_before(nightly, caplog):
    ftp, out, _ = nightly
    time.sleep(RACY_SECONDS + 0.1)  # the files were just written: let them settle
    with caplog.at_level(logging.INFO, logger="pipeline.bulk.runner"):
        bulk(out, ftp, update=True)  # checks 0001 and 0002, applies 0003
        assert "2 listed PubMed file(s) checked, 2 of them read in full" in caplog.text
        caplog.clear()
        _write(ftp / "pubmed26n0004.xml.gz", _record(MOVED))
        bulk(out, ftp, update=True)  # 0001 and 0002 as hashed last night; 0003 read
        assert "3 listed PubMed file(s) checked, 1 of them read in full" in caplog.text
        caplog.clear()
        _write(ftp / "pubmed26n0005.xml.gz", _record(BUMPED))
        bulk(out, ftp, update=True, verify_inputs=True)
        assert "4 listed PubMed file(s) checked, 4 of them read in full" in caplog.text


def test_a_listed_file_changed_in_place_is_refused_though_its_size_and_mtime_are_kept(nightly):
    ftp, out, _ = nightly
    time.sleep(RACY_SECONDS + 0.1)
    bulk(out, ftp, update=True)  # 0001 and 0002 are now in the digest cache
    listed = ftp / "pubmed26n0001.xml.gz"
    stat = listed.stat()
    data = bytearray(listed.read_bytes())
    data[len(data) // 2] ^= 0xFF
    listed.write_bytes(bytes(data))
    os.utime(listed, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    _write(ftp / "pubmed26n0004.xml.gz", _record(MOVED))
    with pytest.raises(UpdateRefusedError, match=r"pubmed26n0001\.xml\.gz differs .* sha256"):
        bulk(out, ftp, update=True)
