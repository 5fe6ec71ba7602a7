"""bulk --all-concepts (columnar links and citations) publishes what naming every concept does."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from tests.bulk.test_cli_bulk import bulk_args
from tests.fakes.dataset import pubmed_article

HEAD = '<?xml version="1.0" ?>\n<PubmedArticleSet>'
TYPES = (
    ("Journal Article",),
    ("Guideline",),
    ("Practice Guideline", "Journal Article"),
    ("Systematic Review",),
    ("Meta-Analysis", "Review"),
)
CONCEPTS = {  # CUI -> UID
    "C0000039": 2,
    "C4725027": 1662593,
    "CN000001": 9000001,
    "C0000100": 100,
    "C0000200": 200,
}
ABSENT = 99_999_999  # linked, but in no PubMed file


def article(pmid: int, *, version: int = 1, title: str = "A synthetic article.") -> str:
    undated = pmid % 11 == 0
    xml = pubmed_article(
        pmid,
        year=None if undated else 1990 + pmid % 30,
        month=None if undated else 1 + pmid % 12,
        medline_date=None,
        title=title,
        publication_types=TYPES[pmid % len(TYPES)],
    )
    return xml.replace('<PMID Version="1">', f'<PMID Version="{version}">', 1)


def write_world(folder: Path) -> None:
    """Made here: 60 articles in a baseline and an update file, and the MedGen files."""
    rng = random.Random(5)
    pmids = list(range(1000, 1060))
    pubmed = folder / "pubmed"
    pubmed.mkdir(parents=True)
    again = article(1005, title="A second record of 1005.")  # one PMID twice in one file
    baseline = HEAD + "".join(article(p) for p in pmids) + again + "</PubmedArticleSet>"
    (pubmed / "pubmed26n0001.xml.gz").write_bytes(gzip.compress(baseline.encode()))
    update = (
        HEAD
        + article(1001, version=2, title="Version two.")
        + '<DeleteCitation><PMID Version="1">1002</PMID></DeleteCitation></PubmedArticleSet>'
    )
    (pubmed / "pubmed26n0002.xml.gz").write_bytes(gzip.compress(update.encode()))
    lines = ["#UID|CUI|NAME|PMID|"]
    for cui, uid in CONCEPTS.items():
        linked = [*rng.sample(pmids, 25), 1001, 1002, ABSENT]
        lines += [f"{uid}|{cui}|Concept {cui}|{p}|" for p in linked]
    lines.append("7|C0000007|A bad line|not-a-pmid|")
    (folder / "medgen_pubmed_lnk.txt.gz").write_bytes(
        gzip.compress(("\n".join(lines) + "\n").encode())
    )
    names = "#CUI|name|source|SUPPRESS|\nC4725027|Refractory Acute Leukemia|NCI|N|\n"
    definitions = "#CUI|DEF|source|SUPPRESS|\nC4725027|Leukemia that resists.|NCI|N|\n"
    (folder / "NAMES.RRF.gz").write_bytes(gzip.compress(names.encode()))
    (folder / "MGDEF.RRF.gz").write_bytes(gzip.compress(definitions.encode()))


def bulk(folder: Path, out: str, *args: str) -> dict[str, object]:
    argv = [*bulk_args(folder, folder / out), *args]
    result = CliRunner().invoke(main, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    manifest: dict[str, object] = json.loads(
        (folder / out / "current" / "manifest.json").read_text()
    )
    return manifest


@pytest.mark.parametrize("limit", [(), ("--per-category", "3")])
def test_all_concepts_publish_the_files_of_every_concept_named(tmp_path, limit):
    write_world(tmp_path)
    every = bulk(tmp_path, "all", "--all-concepts", *limit)
    named = bulk(tmp_path, "named", *(a for c in CONCEPTS for a in ("--concept", c)), *limit)
    assert every["files"] == named["files"]
    assert every["pmids"] == named["pmids"]
    assert every["categories"]["rows"] == named["categories"]["rows"]  # type: ignore[index]
    pmids = every["pmids"]
    assert pmids["missing_pmids"] == [1002, ABSENT]  # type: ignore[index]
    assert pmids["requested"] == pmids["loaded"] + pmids["rejected"] + pmids["missing"]  # type: ignore[index]
    rows = every["categories"]["rows"]  # type: ignore[index]
    assert rows["professional_guidelines"] > 0
    assert rows["systematic_reviews"] > 0
    assert any("not-a-pmid" in w for w in every["warnings"])  # type: ignore[attr-defined]
    assert "pubmed26n0001.xml.gz: PMID 1005 appears again; kept the first" in every["warnings"]  # type: ignore[operator]
    assert every["concepts"]["all"] is True  # type: ignore[index]


def test_all_concepts_refuses_named_concepts_and_online(tmp_path):
    write_world(tmp_path)
    argv = [
        "bulk",
        "--all-concepts",
        "--concept",
        "C0000039",
        "--links",
        str(tmp_path / "medgen_pubmed_lnk.txt.gz"),
    ]
    result = CliRunner().invoke(main, [*argv, "--pubmed", str(tmp_path / "pubmed")])
    assert result.exit_code == 2
    assert "--all-concepts takes no --concept" in result.output


HUGE_LINES = [
    ("PMID of 23 digits", "1662593|C4725027|x|12345678901234567890123|", "PMID '1234"),
    ("PMID of 5,000 digits", "1662593|C4725027|x|" + "9" * 5000 + "|", "(5000 digits) is larger"),
    ("PMID of 10 digits", "1662593|C4725027|x|1000000000|", "PMID '1000000000' (10 digits)"),
    ("UID of 23 digits", "12345678901234567890123|C4725027|x|1001|", "UID '1234"),
    ("PMID zero", "1662593|C4725027|x|000|", "PMID '000' is not a positive integer"),
]


@pytest.mark.parametrize(("case", "line", "reason"), HUGE_LINES, ids=[c[0] for c in HUGE_LINES])
@pytest.mark.parametrize("mode", ["all", "named"])
def test_a_links_line_with_an_impossible_id_is_one_warning_in_either_mode(
    tmp_path, case, line, reason, mode
):
    write_world(tmp_path)
    links = tmp_path / "medgen_pubmed_lnk.txt.gz"
    lines = gzip.decompress(links.read_bytes()).decode().splitlines()
    links.write_bytes(gzip.compress(("\n".join([*lines, line]) + "\n").encode()))
    args = ("--all-concepts",) if mode == "all" else ("--concept", "C4725027")
    manifest = bulk(tmp_path, mode, *args)
    warned = [w for w in manifest["warnings"] if f" line {len(lines) + 1}: " in w]  # type: ignore[attr-defined]
    assert len(warned) == 1, manifest["warnings"]
    assert reason in warned[0]
    assert len(warned[0]) < 400  # the line is shown clipped, not whole
    pmids = manifest["pmids"]
    assert pmids["requested"] == pmids["loaded"] + pmids["rejected"] + pmids["missing"]  # type: ignore[index]
    assert all(p < 10**9 for p in pmids["missing_pmids"])  # type: ignore[index]
