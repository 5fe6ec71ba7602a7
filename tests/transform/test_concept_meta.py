"""A summary's ConceptMeta → codes, genes, inheritance, features, relations."""

from __future__ import annotations

from pathlib import Path

from pipeline.models import Concept
from pipeline.transform.medgen import SummaryError, parse_medgen_summaries


def summary(meta: str) -> bytes:
    """Made here: one DocumentSummary whose ConceptMeta is ``meta``, escaped as NCBI does."""
    escaped = meta.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<eSummaryResult><DocumentSummarySet><DocumentSummary uid="7">'
        "<ConceptId>C0000007</ConceptId><Title>Seven</Title>"
        f"<SemanticType>Finding</SemanticType><ConceptMeta>{escaped}</ConceptMeta>"
        "</DocumentSummary></DocumentSummarySet></eSummaryResult>"
    ).encode()


def one(body: bytes) -> Concept:
    [concept] = parse_medgen_summaries(body)
    assert isinstance(concept, Concept)
    return concept


def test_the_real_dent_disease_2_summary_gives_every_item_in_order(samples: Path):
    concept = one((samples / "metapub" / "medgen_concept_336867.xml").read_bytes())
    assert concept.omim == ("300555",)
    assert (concept.chromosome, concept.cytogenetic) == ("X", "Xq26.1")
    assert concept.mesh_ids == ("C564487",)
    assert concept.semantic_types == ("Disease or Syndrome",)
    assert [(c.source, c.term_type, c.preferred) for c in concept.codes] == [
        ("OMIM", "PT", False),
        ("MSH", "NM", False),
        ("GTR", "PT", True),
        ("GTR", "SYN", False),
        ("ORDO", "PT", False),
        ("ORDO", "SYN", False),
    ]
    assert concept.codes[2].code == "AN0084357"
    assert concept.codes[2].source_id == "GTRT000001952"
    assert [(g.gene_id, g.symbol, g.cytogenetic) for g in concept.genes] == [
        (4952, "OCRL", "Xq26.1")
    ]
    assert [(m.mode_cui, m.mode_name) for m in concept.inheritance] == [
        ("CN001297", "X-linked recessive inheritance")
    ]
    # ClinicalFeatures only: PhenotypicAbnormalities repeats some of them by organ system.
    assert len(concept.features) == 11
    assert concept.features[0].feature_cui == "C0019322"
    assert concept.features[0].hpo_id == "HP:0001537"
    assert concept.features[0].semantic_type == "Anatomical Abnormality"
    assert concept.features[-1].name == "Chronic kidney disease"
    assert concept.relations == ()  # its RelatedDisorders is empty


def test_the_near_empty_sample_gives_empty_details(samples: Path):
    concept = one((samples / "eutils-json" / "esummary.medgen.xml").read_bytes())
    assert concept.mesh_ids == ("C048285",)
    assert (concept.omim, concept.genes, concept.features, concept.inheritance) == ((), (), (), ())
    assert concept.chromosome is None


def test_related_disorders_become_ro_relations_without_a_source():
    meta = (
        '<RelatedDisorders><RelatedDisorder uid="1" CUI="C0039082"><Name>Werner</Name>'
        "</RelatedDisorder></RelatedDisorders>"
    )
    [relation] = one(summary(meta)).relations
    assert (relation.relation, relation.related_cui, relation.source) == ("RO", "C0039082", None)


def test_a_gene_without_a_numeric_gene_id_fails_the_concept_naming_it():
    [error] = parse_medgen_summaries(
        summary('<AssociatedGenes><Gene gene_id="BLM">BLM</Gene></AssociatedGenes>')
    )
    assert isinstance(error, SummaryError)
    assert "gene_id 'BLM' is not an NCBI Gene id" in error.message


def test_a_clinical_feature_without_a_cui_fails_the_concept_rather_than_vanish():
    meta = "<ClinicalFeatures><ClinicalFeature><Name>X</Name></ClinicalFeature></ClinicalFeatures>"
    [error] = parse_medgen_summaries(summary(meta))
    assert isinstance(error, SummaryError)
    assert "ClinicalFeature without a CUI" in error.message


def test_a_conceptmeta_declaring_entities_is_refused():
    body = summary('<!DOCTYPE x [<!ENTITY e "boom">]><Names><Name SAB="X">&e;</Name></Names>')
    [error] = parse_medgen_summaries(body)
    assert isinstance(error, SummaryError)
