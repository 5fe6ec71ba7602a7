"""The bulk path over a baseline and an update file: same rows as build, any executor."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from pipeline.bulk.runner import BulkOptions, bulk_build, order_pubmed_files
from pipeline.config import load_settings
from pipeline.load.snapshot import verify
from pipeline.models import Concept, ConceptRef, MedgenInput
from tests.conftest import DEMO_DATASET
from tests.fakes.eutils_server import FakeEutils
from tests.support import build_live, demo_dataset

CUI = "C4725027"
REPLACED, VERSIONED, DELETED = 2323662, 39121437, 3655707


def _pubmed_xml() -> str:
    return (DEMO_DATASET / "pubmed.xml").read_text("utf-8")


def write_baseline_and_update(folder: Path) -> tuple[Path, Path]:
    """Made here, from the demo dataset: the 19 records as baseline file 0001; an
    update file 0002 that replaces one record (same version), adds version 2 of
    another and deletes a third."""
    folder.mkdir(parents=True, exist_ok=True)
    baseline = folder / "pubmed26n0001.xml.gz"
    # mtime=0: the same files, byte for byte, whenever they are written.
    baseline.write_bytes(gzip.compress(_pubmed_xml().encode(), mtime=0))
    records = re.findall(r"<PubmedArticle>.*?</PubmedArticle>", _pubmed_xml(), re.S)

    def record(pmid: int) -> str:
        found: str = next(r for r in records if f">{pmid}</PMID>" in r)
        return found

    replaced = re.sub(
        r"<ArticleTitle>.*?</ArticleTitle>",
        "<ArticleTitle>Replaced title.</ArticleTitle>",
        record(REPLACED),
        flags=re.S,
    )
    versioned = record(VERSIONED).replace('<PMID Version="1">', '<PMID Version="2">', 1)
    versioned = re.sub(
        r"<ArticleTitle>.*?</ArticleTitle>",
        "<ArticleTitle>Version two.</ArticleTitle>",
        versioned,
        flags=re.S,
    )
    head = _pubmed_xml().split("<PubmedArticleSet>", 1)[0]
    update = (
        f"{head}<PubmedArticleSet>{replaced}{versioned}"
        f'<DeleteCitation><PMID Version="1">{DELETED}</PMID></DeleteCitation></PubmedArticleSet>'
    )
    path = folder / "pubmed26n0002.xml.gz"
    path.write_bytes(gzip.compress(update.encode(), mtime=0))
    return baseline, path


def medgen_input() -> MedgenInput:
    pmids = tuple(int(p) for p in re.findall(r'<PMID Version="1">(\d+)</PMID>', _pubmed_xml()))
    concept = Concept(1662593, CUI, "Refractory Acute Leukemia", None, None, None, None)
    return MedgenInput(((ConceptRef("cui", CUI), concept),), (), {CUI: pmids})


def rows(snapshot: Path, table: str) -> list[dict[str, Any]]:
    data = pq.read_table(snapshot / table / "part-0.parquet").to_pylist()
    return sorted(data, key=lambda r: (r["pmid"], r.get("position", 0)))


def run_bulk(tmp_path: Path, executor: str, **kw: Any) -> tuple[Path, dict[str, Any]]:
    files = write_baseline_and_update(tmp_path / "ftp")
    settings = load_settings(env={}, overrides={"out_dir": tmp_path / f"out-{executor}"})
    options = BulkOptions(pubmed=(tmp_path / "ftp",), executor=executor, workers=2, **kw)
    assert order_pubmed_files((tmp_path / "ftp",)) == files
    return bulk_build(settings, medgen_input(), options)


def test_updates_apply_in_file_order_with_versions_and_deletions(tmp_path):
    snapshot, manifest = run_bulk(tmp_path, "serial")
    verify(snapshot)
    articles = {r["pmid"]: r for r in rows(snapshot, "articles")}
    assert articles[REPLACED]["title"] == "Replaced title."
    assert (articles[VERSIONED]["pmid_version"], articles[VERSIONED]["title"]) == (
        2,
        "Version two.",
    )
    assert DELETED not in articles
    assert manifest["pmids"]["deleted_pmids"] == [DELETED]
    assert manifest["pmids"]["missing_pmids"] == [DELETED]
    pmids = manifest["pmids"]
    assert pmids["requested"] == pmids["loaded"] + pmids["rejected"] + pmids["missing"] == 19


def test_offline_categories_come_from_links_and_publication_types(tmp_path):
    snapshot, manifest = run_bulk(tmp_path, "serial")
    assert [c["name"] for c in manifest["categories"]["config"]] == [
        "linked",
        "professional_guidelines",
        "systematic_reviews",
    ]
    assert "offline" in manifest["categories"]["mode"]
    linked = pq.read_table(
        snapshot / "citations" / "category=linked" / "part-0.parquet"
    ).to_pylist()
    assert len(linked) == 18
    assert linked[0]["pmid"] == VERSIONED  # 2025 Jan: the newest
    assert [r["rank"] for r in linked] == list(range(1, 19))


def test_bulk_gives_the_same_rows_as_build_for_the_same_pmids(tmp_path):
    with FakeEutils(demo_dataset()) as fake:
        built = build_live(fake, tmp_path / "build", CUI)
    files = tmp_path / "ftp"
    files.mkdir()
    (files / "pubmed26n0001.xml.gz").write_bytes(gzip.compress(_pubmed_xml().encode()))
    settings = load_settings(env={}, overrides={"out_dir": tmp_path / "bulk"})
    snapshot, _ = bulk_build(
        settings, medgen_input(), BulkOptions(pubmed=(files,), executor="serial")
    )
    for table in ("articles", "authors", "journals"):
        key = "nlm_id" if table == "journals" else "pmid"
        b = sorted(
            pq.read_table(built.snapshot / table / "part-0.parquet").to_pylist(),
            key=lambda r: (r[key], r.get("position", 0)),
        )
        k = sorted(
            pq.read_table(snapshot / table / "part-0.parquet").to_pylist(),
            key=lambda r: (r[key], r.get("position", 0)),
        )
        assert b == k, table


@pytest.mark.parametrize("executor", ["process", "dask"])
def test_every_executor_publishes_the_same_files(tmp_path, executor):
    _, serial = run_bulk(tmp_path / "s", "serial")
    if executor == "dask":
        distributed = pytest.importorskip("distributed")
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            _, other = run_bulk(tmp_path / "d", "dask", scheduler=cluster.scheduler_address)
    else:
        _, other = run_bulk(tmp_path / "p", "process")
    assert other["files"] == serial["files"]
    assert other["content_hash"] == serial["content_hash"]


def _online_bulk(tmp_path, lies=()):
    """An online bulk run whose files lack two PMIDs, beside a build of the same concept;
    ``lies``: what the fake server tells (tests/fakes/eutils_server.py)."""
    from pipeline.wiring import eutils_client, run_id
    from tests.support import live_settings

    absent = {DELETED, REPLACED}
    records = re.findall(r"<PubmedArticle>.*?</PubmedArticle>", _pubmed_xml(), re.S)
    kept = [r for r in records if not any(f">{p}</PMID>" in r for p in absent)]
    head = _pubmed_xml().split("<PubmedArticleSet>", 1)[0]
    files = tmp_path / "ftp"
    files.mkdir()
    body = f"{head}<PubmedArticleSet>{''.join(kept)}</PubmedArticleSet>"
    (files / "pubmed26n0001.xml.gz").write_bytes(gzip.compress(body.encode()))
    with FakeEutils(demo_dataset()) as fake:
        built = build_live(fake, tmp_path / "build", CUI)
        settings = live_settings(fake, tmp_path / "bulk")
        client = eutils_client(settings, tmp_path / "raw", run=run_id(settings, (), None))
        for lie in lies:
            fake.lie(lie)
        before = len(fake.requests)
        snapshot, manifest = bulk_build(
            settings,
            medgen_input(),
            BulkOptions(pubmed=(files,), online=True, executor="serial"),
            client=client,
        )
        fetched = [r.params["id"] for r in fake.requests[before:] if r.utility == "efetch"]
    assert fetched == [f"{min(absent)},{max(absent)}"]
    return built, snapshot, manifest


def test_online_bulk_searches_categories_and_fetches_what_the_files_lack(tmp_path):
    built, snapshot, manifest = _online_bulk(tmp_path)
    assert manifest["pmids"]["fetched_by_efetch"] == 2
    assert manifest["pmids"]["missing_pmids"] == []
    assert "E-utilities" in manifest["categories"]["mode"]
    for category in ("therapy", "professional_guidelines", "systematic_reviews"):
        path = f"citations/category={category}/part-0.parquet"
        assert (
            pq.read_table(snapshot / path).to_pylist()
            == pq.read_table(built.snapshot / path).to_pylist()
        )


def test_online_bulk_keeps_no_unasked_record_and_the_first_of_a_duplicate_saying_so(tmp_path):
    from tests.fakes.eutils_server import UNASKED_PMID

    (tmp_path / "honest").mkdir()
    _, _, honest = _online_bulk(tmp_path / "honest")
    (tmp_path / "lied").mkdir()
    _, _, lied = _online_bulk(tmp_path / "lied", ("duplicate_pmid", "unasked_pmid"))
    files = {k: v["sha256"] for k, v in lied["files"].items()}
    assert files == {k: v["sha256"] for k, v in honest["files"].items()}
    first = min(DELETED, REPLACED)
    assert f"efetch-000001.xml: PMID {first} appears again; kept the first" in lied["warnings"]
    assert [w for w in lied["warnings"] if f"efetch returned PMID {UNASKED_PMID}," in w]
