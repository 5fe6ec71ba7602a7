from pipeline.models import Concept
from pipeline.transform.medgen import SummaryError, parse_medgen_summaries
from tests.conftest import DEMO_DATASET


def test_full_concept_meta_gives_names_and_sourced_definitions(samples):
    [concept] = parse_medgen_summaries(
        (samples / "metapub" / "medgen_concept_336867.xml").read_bytes()
    )
    assert isinstance(concept, Concept)
    assert (concept.uid, concept.cui, concept.name) == (336867, "C1845167", "Dent disease 2")
    assert (concept.semantic_id, concept.semantic_type) == ("T047", "Disease or Syndrome")
    assert concept.definition_source == "GeneReviews"
    assert concept.definition is not None
    assert concept.definition.startswith("Dent disease, an X-linked")
    preferred = [n for n in concept.names if n.preferred]
    assert [(n.name, n.source) for n in preferred] == [("Dent disease 2", "GTR")]
    assert "DENT DISEASE 2" in concept.synonyms
    assert "Dent disease 2" not in concept.synonyms


def test_near_empty_concept_has_no_definition(samples):
    [concept] = parse_medgen_summaries(
        (samples / "eutils-json" / "esummary.medgen.xml").read_bytes()
    )
    assert isinstance(concept, Concept)
    assert concept.name == "5'-chloroacetamido-5'-deoxythymidine"
    assert (concept.definition, concept.definition_source) == (None, None)
    assert concept.synonyms == ("5'-CAT",)


def test_demo_concept_definition_comes_with_its_source():
    [concept] = parse_medgen_summaries((DEMO_DATASET / "medgen.xml").read_bytes())
    assert isinstance(concept, Concept)
    assert (concept.definition, concept.definition_source) == (
        "Acute leukemia that does not respond to treatment.",
        "NCI",
    )


def test_a_per_uid_error_is_a_summary_error_not_an_exception():
    body = b"""<eSummaryResult><DocumentSummarySet status="OK">
<DocumentSummary uid="5"><error>cannot get document summary</error></DocumentSummary>
</DocumentSummarySet></eSummaryResult>"""
    assert parse_medgen_summaries(body) == (SummaryError(5, "cannot get document summary"),)


def test_unreadable_concept_meta_is_reported_for_that_concept():
    body = b"""<eSummaryResult><DocumentSummarySet status="OK"><DocumentSummary uid="9">
<ConceptId>C9</ConceptId><Title>T</Title><ConceptMeta>&lt;Names&gt;&lt;Name</ConceptMeta>
</DocumentSummary></DocumentSummarySet></eSummaryResult>"""
    [result] = parse_medgen_summaries(body)
    assert isinstance(result, SummaryError)
    assert "ConceptMeta" in result.message
