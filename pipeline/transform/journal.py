"""The journal of a MedlineCitation: Journal and MedlineJournalInfo."""

from __future__ import annotations

from lxml import etree

from pipeline.models import Journal
from pipeline.transform.issn import normalize_issn
from pipeline.transform.text import child_text


def issn_of_type(journal: etree._Element | None, issn_type: str) -> str | None:
    """The checked ``Journal/ISSN`` of the given IssnType (Print, Electronic)."""
    if journal is None:
        return None
    for el in journal.iterfind("ISSN"):
        if el.get("IssnType") == issn_type:
            return normalize_issn(el.text)
    return None


def journal_from_citation(citation: etree._Element | None) -> Journal:
    """The ``Journal`` of a ``MedlineCitation`` (all None when absent)."""
    journal = citation.find("Article/Journal") if citation is not None else None
    info = citation.find("MedlineJournalInfo") if citation is not None else None
    return Journal(
        nlm_id=child_text(info, "NlmUniqueID"),
        medline_ta=child_text(info, "MedlineTA"),
        iso_abbreviation=child_text(journal, "ISOAbbreviation"),
        title=child_text(journal, "Title"),
        issn_print=issn_of_type(journal, "Print"),
        issn_electronic=issn_of_type(journal, "Electronic"),
        issn_linking=normalize_issn(child_text(info, "ISSNLinking")),
        country=child_text(info, "Country"),
    )


EMPTY_JOURNAL = Journal(
    nlm_id=None,
    medline_ta=None,
    iso_abbreviation=None,
    title=None,
    issn_print=None,
    issn_electronic=None,
    issn_linking=None,
    country=None,
)
