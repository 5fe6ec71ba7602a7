"""Conformance: every E-utilities answer in ../shared/ncbi-samples is read as the pipeline would.

Covers PubMed EFetch (including the gzip bulk files and NLM's medsamp2017.xml),
ESearch, ELink, ESummary and EInfo answers. EFetch goes through
``pipeline.transform.pubmed``; ESearch, ELink and EInfo through
``pipeline.extract.responses`` (``check_body`` then the utility's parser);
MedGen ESummary through ``pipeline.transform.medgen``. Answers that are meant
to fail (ERROR bodies, a cut body) are listed with the error they must give.
Skips, saying why, when the samples folder is absent.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import EutilsError, ResponseFormatError, TransientError
from pipeline.extract.responses import check_body, parse_einfo, parse_elink_history, parse_esearch
from pipeline.models import Concept
from pipeline.transform.medgen import parse_medgen_summaries
from pipeline.transform.pubmed import RECORD_TAGS, parse_efetch
from pipeline.xmlsafe import parse_xml
from tests.conftest import PUBMED_SAMPLE_GLOBS, SAMPLES

pytestmark = pytest.mark.samples

# Which sample files are which utility's answer (globs relative to the samples folder).
KINDS: dict[str, tuple[str, ...]] = {
    "efetch": PUBMED_SAMPLE_GLOBS,
    "esearch": ("*/esearch*.xml",),
    "elink": ("*/elink*.xml", "metapub/*elink*.xml", "metapub/sample_related_pmids_result.xml"),
    "esummary": ("*/esummary*.xml", "metapub/medgen_concept_*.xml"),
    "einfo": ("*/einfo*.xml",),
}
# Sample answers of utilities the pipeline never calls.
NOT_USED = ("biopython/epost*.xml",)

# Answers that must fail, and how: (error class, text in its message, why).
EXPECTED_ERRORS: dict[str, tuple[type[Exception], str, str]] = {
    "biopython/einfo1.xml": (
        ResponseFormatError,
        "no DbInfo",
        "einfo without db= lists databases; the pipeline always names one db",
    ),
    "biopython/einfo4.xml": (
        TransientError,
        "incomplete XML",
        "a body cut mid-document (Biopython's corrupt-data test): retried, never stored",
    ),
    "biopython/esummary8.xml": (EutilsError, "Neither query_key nor id", "an ERROR body"),
    "eutils-json/einfo.error.xml": (EutilsError, "fleegle", "an ERROR body"),
    "eutils-json/esearch.baderror.xml": (EutilsError, "fleegle", "an ERROR body"),
    "eutils-json/esummary.error.xml": (EutilsError, "fleegle", "an ERROR body"),
}

# Schema drift the samples really carry: DateCreated left the PubMed DTD in 2018;
# older answers still have it. Every other sample is drift-free.
EXPECTED_DRIFT: dict[str, tuple[str, ...]] = {
    "bulk/medsamp2017.xml": ("unknown element <DateCreated> in PubmedArticle",),
    "eutils-json/efetch.pubmed.xml": ("unknown element <DateCreated> in PubmedArticle",),
    "eutils-json/efetch.pubmedexample.xml": ("unknown element <DateCreated> in PubmedArticle",),
}


def files_of(patterns: tuple[str, ...]) -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    return sorted({p for pattern in patterns for p in SAMPLES.glob(pattern)})


def params(kind: str) -> list[Any]:
    found = [pytest.param(p, id=p.relative_to(SAMPLES).as_posix()) for p in files_of(KINDS[kind])]
    reason = f"real NCBI samples not present at {SAMPLES} (outside the repository)"
    return found or [pytest.param(None, id="absent", marks=pytest.mark.skip(reason=reason))]


def body_of(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def name(path: Path) -> str:
    return path.relative_to(SAMPLES).as_posix()


def check_expected_error(path: Path, call: Callable[[], object]) -> bool:
    """True (and the error checked) when ``path`` is listed as an answer that must fail."""
    expected = EXPECTED_ERRORS.get(name(path))
    if expected is None:
        return False
    error, text, _why = expected
    with pytest.raises(error, match=text):
        call()
    return True


def test_every_sample_answer_is_of_a_known_kind(samples: Path):
    xml = {p for p in samples.rglob("*") if p.name.endswith((".xml", ".xml.gz"))}
    kinds = [set(files_of(patterns)) for patterns in KINDS.values()]
    claimed = [p for group in kinds for p in group]
    assert len(claimed) == len(set(claimed)), "a sample is claimed by two kinds"
    assert xml - set(claimed) == set(files_of(NOT_USED))


@pytest.mark.parametrize("path", params("efetch"))
def test_every_pubmed_record_in_a_sample_yields_a_row(path: Path):
    body = body_of(path)
    root = parse_xml(body, what=path.name)
    records = [el for el in root if el.tag in RECORD_TAGS]
    deletions = root.findall("DeleteCitation/PMID")
    batch = parse_efetch(body)
    assert batch.rejects == ()
    assert [a.pmid for a in batch.articles] == [
        int(el.findtext("MedlineCitation/PMID") or el.findtext("BookDocument/PMID") or 0)
        for el in records
    ]
    assert len(batch.deleted) == len(deletions)
    assert batch.warnings == EXPECTED_DRIFT.get(name(path), ())
    for article in batch.articles:
        date = article.pub_date
        assert date.year is not None, article.pmid
        assert date.precision is not None, article.pmid
        assert date.start is not None
        assert date.end is not None
        assert date.start <= date.end
        assert date.start.year == date.year


def test_bulk_files_match_their_md5_and_carry_deletions(samples: Path):
    for md5_file in sorted((samples / "bulk").glob("*.md5")):
        data_file = md5_file.with_suffix("")
        assert md5_file.read_text().split("=")[-1].split()[0] in (
            hashlib.md5(data_file.read_bytes()).hexdigest(),
        )
    deleted = {
        p.name: len(parse_efetch(body_of(p)).deleted) for p in (samples / "bulk").glob("*.gz")
    }
    assert deleted == {
        "pubmed20n1016.xml.gz": 262,
        "pubmed26n1334.xml.gz": 0,
        "pubmed26n1335.xml.gz": 6,
    }


@pytest.mark.parametrize("path", params("esearch"))
def test_every_esearch_sample_parses(path: Path):
    body = path.read_bytes()
    if check_expected_error(path, lambda: parse_esearch(check_body("esearch", body))):
        return
    result = parse_esearch(check_body("esearch", body))
    assert result.count >= len(result.ids) >= 0


@pytest.mark.parametrize("path", params("elink"))
def test_every_elink_sample_parses(path: Path):
    body = path.read_bytes()
    root = check_body("elink", body)
    uid = int(root.findtext("LinkSet/IdList/Id") or "0")
    history = parse_elink_history(root, uid)
    assert history.uid == uid
    assert history.empty == (history.query_key is None)


@pytest.mark.parametrize("path", params("einfo"))
def test_every_einfo_sample_parses(path: Path):
    body = path.read_bytes()
    if check_expected_error(path, lambda: parse_einfo(check_body("einfo", body))):
        return
    info = parse_einfo(check_body("einfo", body))
    assert info.db == "pubmed"
    assert info.last_update is not None


@pytest.mark.parametrize("path", params("esummary"))
def test_every_esummary_sample_parses(path: Path):
    body = path.read_bytes()
    if check_expected_error(path, lambda: check_body("esummary", body)):
        return
    root = check_body("esummary", body)
    if b"medgen" not in body[:1000].lower():
        # A PubMed summary (version 1 DocSum or 2.0 DocumentSummary): the pipeline
        # reads PubMed through efetch only, so a well-formed answer is enough.
        assert root.find("DocSum") is not None or root.find("DocumentSummarySet") is not None
        return
    concepts = parse_medgen_summaries(body)
    assert concepts
    assert all(isinstance(c, Concept) and c.cui.startswith("C") for c in concepts)
