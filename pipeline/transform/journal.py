"""The journal of a MedlineCitation: Journal and MedlineJournalInfo."""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from pipeline.models import Journal
from pipeline.records import quick_constructor
from pipeline.transform.issn import normalize_issn
from pipeline.transform.text import children_by_tag, kid_text

_journal = quick_constructor(Journal)  # one per record: see pipeline/records.py


def _issn_among(issns: Iterable[etree._Element], issn_type: str) -> str | None:
    for el in issns:
        if el.get("IssnType") == issn_type:
            return normalize_issn(el.text)
    return None


def journal_from_citation(citation: etree._Element | None) -> Journal:
    """The ``Journal`` of a ``MedlineCitation`` (all None when absent)."""
    journal = citation.find("Article/Journal") if citation is not None else None
    info = citation.find("MedlineJournalInfo") if citation is not None else None
    return journal_of(journal, info)


def journal_of(journal: etree._Element | None, info: etree._Element | None) -> Journal:
    """The ``Journal`` from ``Article/Journal`` and ``MedlineJournalInfo`` (either may be None)."""
    # Children grouped once: a find() per field would cost as much each.
    kids = children_by_tag(journal)
    info_kids = children_by_tag(info)
    issns = kids.get("ISSN", [])
    return _journal(
        nlm_id=kid_text(info_kids, "NlmUniqueID"),
        medline_ta=kid_text(info_kids, "MedlineTA"),
        iso_abbreviation=kid_text(kids, "ISOAbbreviation"),
        title=kid_text(kids, "Title"),
        issn_print=_issn_among(issns, "Print"),
        issn_electronic=_issn_among(issns, "Electronic"),
        issn_linking=normalize_issn(kid_text(info_kids, "ISSNLinking")),
        country=kid_text(info_kids, "Country"),
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
