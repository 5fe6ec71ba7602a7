"""Whole builds against the loopback fake E-utilities (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from pipeline.config import load_settings
from pipeline.errors import HttpStatusError, PartialRunError, QueryTermError, RawStoreError
from pipeline.load.snapshot import current_snapshot, verify
from pipeline.runner import build
from tests.fakes.dataset import Dataset, FakeConcept, pubmed_article
from tests.fakes.eutils_server import FakeEutils, Fault
from tests.support import build_live, demo_dataset, live_settings, options

THERAPY = "Therapy/Broad[filter]"


@pytest.fixture
def fake():
    with FakeEutils(demo_dataset()) as server:
        yield server


def citations(snapshot: Path, category: str) -> list[dict[str, Any]]:
    table = pq.read_table(snapshot / "citations" / f"category={category}" / "part-0.parquet")
    return sorted(table.to_pylist(), key=lambda r: r["rank"])


def test_build_ranks_each_category_in_the_order_esearch_returned(fake, tmp_path):
    result = build_live(fake, tmp_path, "C4725027")
    rows = citations(result.snapshot, "therapy")
    assert [r["pmid"] for r in rows] == [39121437, 39046511, 38905635, 37891368, 29290814]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["source"] == "J Clin Oncol 2025 Jan;43(1):75-84"
    assert rows[0]["epub_date"] == "2024 Aug 9"
    assert rows[0]["doi"] == "10.1200/jco.24.00826"
    assert rows[0]["doi_display"] == "10.1200/JCO.24.00826"
    verify(result.snapshot)


def test_build_accounts_for_every_pmid_and_lists_missing_ones(fake, tmp_path):
    fake.withhold = {7683357}
    result = build_live(fake, tmp_path, "C4725027")
    pmids = result.manifest["pmids"]
    assert pmids["requested"] == 19
    assert pmids["missing_pmids"] == [7683357]
    assert pmids["requested"] == pmids["loaded"] + pmids["rejected"] + pmids["missing"]
    etiology = [r["pmid"] for r in citations(result.snapshot, "etiology")]
    assert 7683357 not in etiology
    assert len(etiology) == 4


def test_a_build_from_ncbi_answers_says_source_eutils_and_lists_no_placeholders(fake, tmp_path):
    result = build_live(fake, tmp_path, "C4725027")
    assert result.manifest["source"] == "eutils"
    assert result.manifest["placeholder_columns"] == []


def test_a_raw_store_marker_that_cannot_be_read_fails_the_build_naming_it(fake, tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "provenance.json").write_text('{"source": 3}')
    with pytest.raises(RawStoreError, match=r"provenance\.json"):
        build_live(fake, tmp_path, "C4725027")


def test_offline_rebuild_from_the_raw_store_gives_identical_files(fake, tmp_path):
    live = build_live(fake, tmp_path / "a", "C4725027")
    offline = build(
        live_settings(fake, tmp_path / "b"),
        options(tmp_path / "b", "C4725027", raw_dir=tmp_path / "a" / "raw", offline=True),
    )
    assert live.manifest["files"] == offline.manifest["files"]
    assert live.snapshot.name.split("-")[1] == offline.snapshot.name.split("-")[1]


def test_build_resolves_a_uid_and_a_name_to_the_same_concept(fake, tmp_path):
    by_uid = build_live(fake, tmp_path / "u", "1662593")
    by_name = build_live(fake, tmp_path / "n", "Refractory Acute Leukemia")
    assert by_uid.manifest["files"] == by_name.manifest["files"]
    assert by_uid.manifest["concepts"]["found"][0]["cui"] == "C4725027"


def test_per_category_caps_the_rows_kept(fake, tmp_path):
    result = build_live(fake, tmp_path, "C4725027", per_category=2)
    for category in ("therapy", "diagnosis", "professional_guidelines"):
        assert len(citations(result.snapshot, category)) == 2


@pytest.mark.parametrize("style", ["absent", "info"])
def test_a_concept_without_links_is_a_valid_empty_result(tmp_path, style):
    dataset = Dataset([FakeConcept(uid=42, concept_id="C0000042", title="Lonely concept")])
    with FakeEutils(dataset, empty_link_style=style) as server:
        result = build_live(server, tmp_path, "C0000042")
        assert server.requests_for("efetch") == []
    for category in ("therapy", "systematic_reviews"):
        assert citations(result.snapshot, category) == []
    assert result.manifest["pmids"]["requested"] == 0
    verify(result.snapshot)


def test_a_misspelt_filter_fails_the_run_naming_the_term_and_publishes_nothing(fake, tmp_path):
    cats = tmp_path / "cats.toml"
    cats.write_text(
        '[[category]]\nname = "therapy"\nheading = "Therapy"\nterm = "Therapy/Brod[filter]"\n'
    )
    settings = live_settings(fake, tmp_path / "out")
    settings = live_settings(fake, tmp_path / "out", categories=_categories(cats))
    with pytest.raises(QueryTermError) as info:
        build(settings, options(tmp_path / "out", "C4725027"))
    assert info.value.exit_code == 78
    assert "Therapy/Brod[filter]" in str(info.value)
    assert not (tmp_path / "out" / "current").exists()


def _categories(path: Path):
    from pipeline.config import parse_categories

    return parse_categories(path.read_text(), str(path))


def test_a_failed_concept_does_not_sink_the_others(fake, tmp_path):
    with pytest.raises(PartialRunError) as info:
        build_live(fake, tmp_path, "C4725027", "C9999999")
    assert info.value.exit_code == 65
    manifest = json.loads((current_snapshot(tmp_path) / "manifest.json").read_text())
    assert [f["ref"] for f in manifest["concepts"]["failed"]] == ["C9999999"]
    assert [c["cui"] for c in manifest["concepts"]["found"]] == ["C4725027"]


def test_allow_partial_makes_a_partial_run_succeed(fake, tmp_path):
    result = build_live(fake, tmp_path, "C4725027", "C9999999", allow_partial=True)
    assert [f.ref for f in result.failures] == ["C9999999"]


def test_a_per_uid_summary_error_fails_only_that_concept(fake, tmp_path):
    result = build_live(fake, tmp_path, "1662593", "999999", allow_partial=True)
    assert "999999" in result.failures[0].ref
    assert "cannot get document summary" in result.failures[0].reason


def test_transient_faults_are_retried_and_the_output_is_unchanged(fake, tmp_path):
    clean = build_live(fake, tmp_path / "clean", "C4725027")
    fake.inject("esearch", Fault.http(429, retry_after=1))
    fake.inject("efetch", Fault.http(503))
    fake.inject("elink", Fault.reset())
    fake.inject("einfo", Fault.cut_xml())
    faulty = build_live(fake, tmp_path / "faulty", "C4725027", settings={"retry": _fast_retry()})
    assert faulty.manifest["files"] == clean.manifest["files"]


def _fast_retry():
    from tests.support import retry_policy

    return retry_policy(max_attempts=4, initial_wait=0.05, max_wait=0.2, jitter=0.05)


def test_a_client_error_fails_at_once_naming_the_utility_without_the_key(fake, tmp_path):
    fake.inject("elink", Fault.http(400))
    with pytest.raises(HttpStatusError) as info:
        build_live(
            fake, tmp_path, "C4725027", settings={"env": {"NCBI_API_KEY": "KEY-SHOULD-NOT-SHOW"}}
        )
    message = str(info.value)
    assert "elink" in message
    assert "id=1662593" in message
    assert "KEY-SHOULD-NOT-SHOW" not in message
    assert len(fake.requests_for("elink")) == 1


def test_the_api_key_is_sent_but_never_written_or_logged(fake, tmp_path, caplog):
    key = "APIKEY-9f8e7d6c5b4a"
    caplog.set_level(logging.DEBUG)
    fake.inject("efetch", Fault.http(500))
    build_live(
        fake, tmp_path, "C4725027", settings={"env": {"NCBI_API_KEY": key}, "retry": _fast_retry()}
    )
    assert all(r.params.get("api_key") == key for r in fake.requests)
    assert all(
        r.params.get("email") and r.params.get("tool") == "medgen-etl" for r in fake.requests
    )
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
    assert key not in caplog.text


def test_an_interrupted_run_resumes_without_refetching(fake, tmp_path):
    fake.inject("efetch", Fault.http(404))
    with pytest.raises(HttpStatusError):
        build_live(fake, tmp_path, "C4725027")
    before = len(fake.requests)
    result = build_live(fake, tmp_path, "C4725027")
    resumed = [r.utility for r in fake.requests[before:]]
    assert resumed == ["efetch", "einfo", "einfo"]
    assert result.manifest["pmids"]["loaded"] == 19


def test_fresh_discards_the_interrupted_run(fake, tmp_path):
    fake.inject("efetch", Fault.http(404))
    with pytest.raises(HttpStatusError):
        build_live(fake, tmp_path, "C4725027")
    before = len(fake.requests)
    build_live(fake, tmp_path, "C4725027", fresh=True)
    assert [r.utility for r in fake.requests[before:]][:3] == ["esearch", "esummary", "elink"]


def test_a_live_run_after_a_published_one_fetches_fresh_answers(fake, tmp_path):
    build_live(fake, tmp_path, "C4725027")
    before = len(fake.requests)
    build_live(fake, tmp_path, "C4725027")
    assert len(fake.requests) - before == before


def test_no_more_than_three_requests_in_any_second_without_a_key(fake, tmp_path):
    build_live(fake, tmp_path, "C4725027", settings={"rate_limit": 3.0})
    times = [r.time for r in fake.requests]
    assert len(times) == 13
    for start in times:
        assert sum(1 for t in times if start <= t <= start + 1.0) <= 3


def test_efetch_batches_cover_every_pmid(tmp_path):
    pmids = list(range(1000, 1250))
    articles = [pubmed_article(p, year=2000 + p % 20) for p in pmids]
    dataset = Dataset(
        [FakeConcept(uid=7, concept_id="C0000007", title="Busy concept")],
        articles,
        links={7: pmids},
        filters={**{c.term: [] for c in load_settings(env={}).categories}, THERAPY: pmids},
    )
    with FakeEutils(dataset) as server:
        result = build_live(
            server,
            tmp_path,
            "C0000007",
            settings={"efetch_batch_size": 200, "search_page_size": 60},
        )
        fetches = server.requests_for("efetch")
        searches = [r for r in server.requests_for("esearch") if r.params.get("db") == "pubmed"]
    # Bio.Entrez switches to POST at 200 ids; the last, short batch goes by GET.
    assert [(r.method, len(r.params["id"].split(","))) for r in fetches] == [
        ("POST", 200),
        ("GET", 50),
    ]
    therapy = citations(result.snapshot, "therapy")
    assert [r["pmid"] for r in therapy] == sorted(pmids, key=lambda p: (-(2000 + p % 20), -p))
    assert len([s for s in searches if THERAPY in s.params["term"]]) == 5
    assert result.manifest["pmids"]["loaded"] == 250


def test_an_unknown_element_is_logged_once_per_run_and_listed_in_the_manifest(tmp_path, caplog):
    pmids = [101, 102, 103]
    articles = [
        pubmed_article(p).replace("<Article ", "<FutureElement>x</FutureElement><Article ", 1)
        for p in pmids
    ]
    filters: dict[str, list[int]] = {c.term: [] for c in load_settings(env={}).categories}
    filters[THERAPY] = pmids
    dataset = Dataset(
        [FakeConcept(uid=8, concept_id="C0000008", title="Drift")], articles, {8: pmids}, filters
    )
    caplog.set_level(logging.WARNING)
    with FakeEutils(dataset) as server:
        result = build_live(server, tmp_path, "C0000008")
    assert result.manifest["warnings"] == ["unknown element <FutureElement> in PubmedArticle"]
    assert caplog.text.count("FutureElement") == 1
    assert result.manifest["pmids"]["loaded"] == 3


def test_einfo_failure_is_a_manifest_warning_not_a_failed_run(tmp_path):
    with FakeEutils(demo_dataset()) as server:
        server.dataset.einfo.pop("medgen")
        result = build_live(server, tmp_path, "C4725027")
    assert result.manifest["ncbi"]["medgen"] == {"db_build": None, "last_update": None}
    assert any(w.startswith("einfo db=medgen failed") for w in result.manifest["warnings"])
    assert result.manifest["ncbi"]["pubmed"]["db_build"] is not None
