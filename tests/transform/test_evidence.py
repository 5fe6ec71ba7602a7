"""Evidence marks and MeSH search terms (pure)."""

from __future__ import annotations

from pipeline.transform import evidence
from pipeline.transform.pubmed import parse_efetch
from tests.fakes.dataset import pubmed_article
from tests.fakes.ncbi_xml import pubmed_set_body


def test_mesh_term_searches_descriptors_unexploded_and_supplementary_concepts_by_nm():
    term = evidence.mesh_term(["D015470", "C000657245", "D015470", "Q000000"])
    assert term == '"D015470"[mh:noexp] OR "C000657245"[nm]'


def test_mesh_term_is_none_without_a_descriptor_or_supplementary_concept():
    assert evidence.mesh_term([]) is None
    assert evidence.mesh_term(["Q000175"]) is None


def test_marks_say_linked_mesh_and_major_in_that_order():
    ids = ("C1", "D1")
    assert evidence.marks(linked=True, mesh_ids=ids, uis=(), major_uis=()) == ("medgen_link",)
    found = evidence.marks(linked=True, mesh_ids=ids, uis=("D1",), major_uis=("D1",))
    assert found == ("medgen_link", "mesh", "mesh_major")
    assert evidence.marks(linked=False, mesh_ids=ids, uis=("C1", "D9"), major_uis=("D9",)) == (
        "mesh",
    )


def test_a_row_found_by_the_mesh_search_alone_is_marked_mesh_even_if_its_record_lacks_the_id():
    [article] = parse_efetch(pubmed_set_body([pubmed_article(5)])).articles
    assert evidence.row_evidence(frozenset(), ("C1",), article) == ("mesh",)
    assert evidence.row_evidence(frozenset({5}), ("C1",), article) == ("medgen_link",)
    assert evidence.row_evidence(None, ("C1",), article) == ("medgen_link",)


def test_article_mesh_reads_descriptors_supplementary_concepts_and_major_topics():
    xml = pubmed_article(
        7, mesh=(("D1", "One", True), ("D2", "Two", False)), supplementary=(("C1", "Syn"),)
    )
    [article] = parse_efetch(pubmed_set_body([xml])).articles
    assert evidence.article_mesh(article) == (("D1", "D2", "C1"), ("D1",))


def test_count_marks_counts_each_mark_of_each_row():
    counts = evidence.count_marks([("medgen_link",), ("medgen_link", "mesh"), ("mesh",)])
    assert counts == {"medgen_link": 2, "mesh": 2, "mesh_major": 0}
