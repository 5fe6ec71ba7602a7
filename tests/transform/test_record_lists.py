"""A record's lists (MeSH, keywords, grants, references, ...) from the whole-record fixture."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.load.tables import article_tables
from pipeline.models import (
    Article,
    ArticleIdentifier,
    Chemical,
    CommentCorrection,
    DataBankAccession,
    Grant,
    HistoryDate,
    Keyword,
    MeshHeading,
    MeshQualifier,
    Reference,
    SupplementaryConcept,
)
from pipeline.transform.citations import citation_row
from pipeline.transform.pubmed import parse_efetch
from tests.transform.builders import article_set, article_xml

FIXTURE = Path(__file__).parent / "fixtures" / "whole_records.xml"


@pytest.fixture(scope="module")
def records() -> dict[int, Article]:
    return {a.pmid: a for a in parse_efetch(FIXTURE.read_bytes()).articles}


def test_mesh_headings_keep_order_qualifiers_and_major_from_either(records):
    assert records[90000201].mesh_headings == (
        MeshHeading(
            1,
            "D000998",
            "Antiviral Agents",
            False,
            None,
            (
                MeshQualifier("Q000627", "therapeutic use", True),
                MeshQualifier("Q000009", "adverse effects", False),
            ),
            True,
        ),
        MeshHeading(2, "D000086382", "COVID-19", True, None, (), True),
        MeshHeading(
            3,
            "D06801",
            "Malformed UI",
            False,
            "Geographic",
            (MeshQualifier("Q000000981", "diagnostic imaging", False),),
            False,
        ),
    )


def test_malformed_mesh_uis_are_kept_and_named_never_guessed(records):
    warnings = parse_efetch(FIXTURE.read_bytes()).warnings
    assert records[90000201].supplementary_concepts[1].ui == "C12"
    assert warnings == (
        "PMID 90000201: MeSH descriptor UI 'D06801' is not D and 6 or 9 digits (kept as published)",
        "PMID 90000201: supplementary concept UI 'C12' is not C and 6 to 9 digits"
        " (kept as published)",
    )


def test_supplementary_concepts_keywords_chemicals_and_grants_in_document_order(records):
    a = records[90000201]
    assert a.supplementary_concepts == (
        SupplementaryConcept(1, "C000657245", "COVID-19 drug treatment", "Disease"),
        SupplementaryConcept(2, "C12", "Malformed protocol", "Protocol"),
    )
    assert a.keywords == (
        Keyword(1, "SARS-CoV-2", "NOTNLM", False),
        Keyword(2, "remdesivir", "NOTNLM", True),
        Keyword(3, "space flight", "NASA", False),
    )
    assert a.chemicals == (
        Chemical(1, "0", "D000998", "Antiviral Agents"),
        Chemical(2, "4QWG6N8QKH", "C000606551", "remdesivir"),
    )
    assert a.grants == (
        Grant(1, "R01 HL000001", "HL", "NHLBI NIH HHS", "United States"),
        Grant(2, None, None, "Wellcome Trust", "United Kingdom"),
    )
    assert a.grant_list_complete is False
    assert records[90000202].grant_list_complete is None


def test_references_flatten_nested_lists_and_normalize_cited_ids(records):
    assert records[90000201].references == (
        Reference(
            1,
            "Doe J. A cited trial. Lancet. 2019;1:2.",
            90000101,
            "10.1016/s0140-6736(19)00001-1",
            "PMC9000101",
        ),
        Reference(2, "Second reference, no ids.", None, None, None),
        Reference(3, "Nested reference.", None, None, None),
    )


def test_history_article_ids_and_data_banks(records):
    a = records[90000201]
    assert a.history == (
        HistoryDate("received", date(2020, 10, 1)),
        HistoryDate("accepted", date(2020, 12, 20)),
        HistoryDate("pubmed", date(2020, 12, 31)),
        HistoryDate("revised", None),  # Feb 30 is no day: null, never guessed
    )
    assert [i.id_type for i in a.article_ids] == ["pubmed", "doi", "pii", "pmc"]
    assert a.article_ids[2] == ArticleIdentifier("pii", "NEJMoa0000201")
    assert a.data_banks == (
        DataBankAccession(1, "ClinicalTrials.gov", "NCT00000001"),
        DataBankAccession(2, "ClinicalTrials.gov", "NCT00000002"),
        DataBankAccession(3, "Dryad", None),
    )


def test_record_level_fields(records):
    a = records[90000201]
    assert (a.status, a.publication_status, a.indexing_method, a.pub_model) == (
        "MEDLINE",
        "ppublish",
        "Automated",
        "Print-Electronic",
    )
    assert a.citation_subsets == ("AIM", "IM")
    assert a.coi_statement == "The authors declare no conflict."
    assert (a.date_completed, a.date_revised) == (date(2021, 3, 15), date(2024, 11, 2))
    assert a.publication_type_uis == ("D016428", "D016449")


def test_retraction_erratum_and_concern_links_are_derived(records):
    a = records[90000201]
    assert a.comments_corrections[0] == CommentCorrection(
        1, "RetractionIn", 90000203, "N Engl J Med. 2021 Jun 3;384(22):2161", None
    )
    assert a.comments_corrections[2].ref_pmid is None
    assert (a.retracted, a.retraction_pmids, a.erratum_pmids, a.expression_of_concern) == (
        True,
        (90000203,),
        (90000299,),
        True,
    )
    # The publication type alone marks a record retracted; the notice itself is not.
    assert records[90000202].retracted is True
    assert records[90000203].retracted is False


def test_retracted_shows_in_articles_and_in_every_citation_naming_it(records):
    tables = article_tables(list(records.values()), [])
    flags = {r["pmid"]: r["retracted"] for r in tables["articles/part-0.parquet"].to_pylist()}
    assert flags == {90000201: True, 90000202: True, 90000203: False}
    rows = [citation_row(cui, "therapy", 1, records[90000201]) for cui in ("C1", "C2")]
    assert [(r.retracted, r.pub_date) for r in rows] == [(True, date(2021, 1, 14))] * 2


def test_a_pmc_id_given_only_as_an_nlm_other_id_is_the_pmcid(records):
    assert records[90000202].pmcid == "PMC4688250"
    assert records[90000201].pmcid == "PMC9000201"  # the ArticleIdList's comes first


def test_no_author_list_leaves_its_completeness_null(records):
    assert records[90000202].author_list_complete is None
    assert records[90000201].author_list_complete is True


def test_a_record_without_any_list_has_empty_lists_and_null_flags():
    [a] = parse_efetch(article_set(article_xml())).articles
    assert (a.mesh_headings, a.references, a.history, a.grants) == ((), (), (), ())
    assert (a.grant_list_complete, a.retracted, a.expression_of_concern) == (None, False, False)
