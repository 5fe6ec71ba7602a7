"""The concept detail tables, by build (a full ConceptMeta served over loopback) and by bulk."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from lxml import etree

from pipeline.bulk.concept_files import ConceptFiles
from pipeline.bulk.medgen import read_medgen
from pipeline.bulk.runner import BulkOptions, bulk_build
from pipeline.config import load_settings
from pipeline.load.snapshot import verify
from pipeline.models import ConceptRef
from tests.bulk.test_bulk import write_baseline_and_update
from tests.conftest import ROOT
from tests.fakes.dataset import Dataset, FakeConcept
from tests.fakes.eutils_server import FakeEutils
from tests.support import build_live

DATA = ROOT / "tests" / "data"
META = (DATA / "medgen_concept" / "bloom_concept_meta.xml").read_text("utf-8")
FTP = DATA / "medgen_ftp"
CUI, UID = "C0005859", 2685
DEFINITION = (
    "Bloom syndrome is characterized by severe pre- and postnatal growth deficiency & "
    "sun-sensitive skin changes."
)
BLOOM = FakeConcept(
    uid=UID,
    concept_id=CUI,
    title="Bloom syndrome",
    definition=DEFINITION,
    definition_source="GeneReviews",
    concept_meta=META,
)
TABLES = (
    "concept_codes",
    "concept_genes",
    "concept_inheritance",
    "concept_features",
    "concept_relations",
)


def rows(snapshot: Path, table: str) -> list[dict[str, Any]]:
    rows_: list[dict[str, Any]] = pq.read_table(snapshot / table / "part-0.parquet").to_pylist()
    return rows_


def expected_from_xml(meta: str, cui: str) -> dict[str, list[dict[str, Any]]]:
    """An independent reading of the ConceptMeta: XPath over the fragment, no pipeline code."""
    root = etree.fromstring(f"<m>{meta}</m>".encode(), etree.XMLParser(resolve_entities=False))

    def xpath(path: str) -> list[Any]:
        found = root.xpath(path)
        assert isinstance(found, list)
        return found

    def text(el: Any, path: str) -> str | None:
        found: str = el.xpath(f"string({path})").strip()
        return found or None

    return {
        "concept_codes": [
            {
                "cui": cui,
                "source": n.get("SAB"),
                "code": n.get("CODE"),
                "source_id": n.get("SDUI"),
                "term_type": n.get("TTY"),
                "name": n.text.strip(),
                "preferred": n.get("type") == "preferred",
            }
            for n in xpath("/m/Names/Name")
        ],
        "concept_genes": [
            {
                "cui": cui,
                "gene_id": int(g.get("gene_id")),
                "symbol": g.text,
                "chromosome": g.get("chromosome"),
                "cytogenetic": g.get("cytogen_loc"),
            }
            for g in xpath("/m/AssociatedGenes/Gene")
        ],
        "concept_inheritance": [
            {"cui": cui, "mode_cui": m.get("CUI"), "mode_name": text(m, "Name")}
            for m in xpath("/m/ModesOfInheritance/ModeOfInheritance")
        ],
        "concept_features": [
            {
                "cui": cui,
                "feature_cui": f.get("CUI"),
                "hpo_id": f.get("SDUI"),
                "name": text(f, "Name"),
                "semantic_type": text(f, "SemanticType"),
            }
            for f in xpath("/m/ClinicalFeatures/ClinicalFeature")
        ],
        "concept_relations": [
            {"cui": cui, "relation": "RO", "related_cui": r.get("CUI"), "source": None}
            for r in xpath("/m/RelatedDisorders/RelatedDisorder")
        ],
        "concepts": [
            {
                "omim": xpath("/m/OMIM/MIM/text()"),
                "chromosome": text(root, "/m/Chromosome"),
                "cytogenetic": text(root, "/m/Cytogenetic"),
                "mesh_ids": list(dict.fromkeys(xpath("/m/Names/Name[@SAB='MSH']/@SDUI"))),
            }
        ],
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    with FakeEutils(Dataset([BLOOM])) as fake:
        result = build_live(fake, out, CUI)
    verify(result.snapshot)
    return result.snapshot


def test_build_writes_every_conceptmeta_item_in_document_order(built):
    expected = expected_from_xml(META, CUI)
    for table in TABLES:
        assert rows(built, table) == expected[table], table
    assert all(expected[t] for t in TABLES)  # the fixture has every kind of item


def test_build_fills_the_concepts_new_columns_from_the_summary(built):
    [concept] = rows(built, "concepts")
    [want] = expected_from_xml(META, CUI)["concepts"]
    assert {k: concept[k] for k in want} == want
    assert concept["omim"] == ["210900"]
    assert concept["mesh_ids"] == ["D001816"]
    assert concept["semantic_types"] == ["Disease or Syndrome"]


def concept_files(folder: Path = FTP) -> ConceptFiles:
    return ConceptFiles(
        conso=folder / "MGCONSO.RRF",
        sty=folder / "MGSTY.RRF",
        rel=folder / "MGREL.RRF",
        hpo_omim=folder / "MedGen_HPO_OMIM_Mapping.txt",
        mim2gene=folder / "mim2gene_medgen",
    )


def bulk_snapshot(tmp: Path, files: ConceptFiles) -> tuple[Path, dict[str, Any]]:
    links = tmp / "medgen_pubmed_lnk.txt.gz"
    links.write_bytes(gzip.compress(f"#UID|CUI|NAME|PMID|\n{UID}|{CUI}|Bloom|2323662|\n".encode()))
    medgen = read_medgen([ConceptRef("cui", CUI)], links, None, None, files)
    pubmed = write_baseline_and_update(tmp / "pubmed")
    settings = load_settings(env={}, overrides={"out_dir": tmp / "out"})
    return bulk_build(settings, medgen, BulkOptions(pubmed=pubmed, executor="serial"))


@pytest.fixture(scope="module")
def bulked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return bulk_snapshot(tmp_path_factory.mktemp("bulk"), concept_files())


def test_bulk_gives_the_summarys_codes_features_and_inheritance_from_the_files(built, bulked):
    snapshot, _ = bulked
    for table in ("concept_codes", "concept_features", "concept_inheritance"):
        assert rows(snapshot, table) == rows(built, table), table


def test_bulk_genes_and_relations_agree_with_the_summary_on_what_both_say(built, bulked):
    snapshot, _ = bulked
    gene = [(r["cui"], r["gene_id"]) for r in rows(snapshot, "concept_genes")]
    assert gene == [(r["cui"], r["gene_id"]) for r in rows(built, "concept_genes")]
    assert rows(snapshot, "concept_genes")[0]["symbol"] is None  # mim2gene has no symbol
    relations = [
        (r["relation"], r["related_cui"], r["source"]) for r in rows(snapshot, "concept_relations")
    ]
    assert relations == [
        ("has_manifestation", "C0349588", "OMIM"),
        ("isa", "C0000768", "MONDO"),
        ("RO", "C0039082", "MSH"),  # no RELA: the REL; the suppressed CHD row left out
    ]
    summary = {(r["relation"], r["related_cui"]) for r in rows(built, "concept_relations")}
    assert summary <= {(rel, cui) for rel, cui, _ in relations}


def test_bulk_fills_the_concepts_new_columns_from_the_files(built, bulked):
    snapshot, _ = bulked
    [concept] = rows(snapshot, "concepts")
    [summary] = rows(built, "concepts")
    for column in ("omim", "mesh_ids"):
        assert concept[column] == summary[column], column
    assert concept["semantic_types"] == ["Disease or Syndrome", "Congenital Abnormality"]
    assert (concept["semantic_type"], concept["semantic_id"]) == ("Disease or Syndrome", "T047")
    assert concept["chromosome"] is None  # no FTP file carries it


def test_bulk_manifest_counts_what_it_left_out_of_the_concept_files(bulked):
    snapshot, manifest = bulked
    counts = manifest["bulk"]["concept_files"]
    assert counts["files"]["MGCONSO.RRF"] == {
        "lines": 12,
        "rejected": 0,
        "suppressed": 1,
    }
    assert counts["files"]["MGREL.RRF"]["suppressed"] == 1
    assert manifest["warnings"] == []
    verify(snapshot)
