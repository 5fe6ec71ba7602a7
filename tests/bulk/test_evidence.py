"""Which records a bulk parse keeps for MeSH evidence."""

from __future__ import annotations

from lxml import etree

from pipeline.bulk.evidence import MeshKeep, keeps_by_mesh
from tests.fakes.dataset import pubmed_article


def record(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode())


def test_a_record_is_kept_for_a_wanted_supplementary_concept_or_descriptor():
    keep = MeshKeep(frozenset({1}), frozenset({"C000657245", "D015470"}))
    suppl = record(pubmed_article(2, supplementary=(("C000657245", "Rare"),)))
    descriptor = record(pubmed_article(3, mesh=(("D015470", "Leukemia", False),)))
    other = record(pubmed_article(4, mesh=(("D000001", "Other", True),)))
    assert keeps_by_mesh(keep, suppl)
    assert keeps_by_mesh(keep, descriptor)
    assert not keeps_by_mesh(keep, other)
    assert 1 in keep
    assert 2 not in keep


def test_a_bare_medline_citation_is_read_too():
    xml = pubmed_article(5, supplementary=(("C1", "Rare"),))
    bare = record(xml).find("MedlineCitation")
    assert bare is not None
    assert keeps_by_mesh(MeshKeep(frozenset(), frozenset({"C1"})), bare)


def test_a_plain_pmid_set_keeps_nothing_by_mesh():
    xml = pubmed_article(6, supplementary=(("C1", "Rare"),))
    assert not keeps_by_mesh(frozenset({1}), record(xml))
