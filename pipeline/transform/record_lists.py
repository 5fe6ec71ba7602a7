"""The lists of a PubMed record: MeSH, supplementary concepts, keywords, chemicals,
grants, comments and corrections, references, history, article ids, data banks.

Pure: elements in, tuples of typed records out, in document order
(``position`` from 1). Each list is read in one pass over its children by tag
(a bulk run reads millions): no ``find()`` per field, no dict per item.
Identifiers MeSH defines by pattern (descriptor ``D`` and qualifier ``Q``
with 6 digits, or 9 as MeSH has issued since 2013: ``D000069816``,
``Q000000981``; supplementary concept ``C`` with 6 to 9) are kept as
published when they do not match, and named in the record's ``id_problems``:
never guessed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from functools import cache

from lxml import etree

from pipeline.models import (
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
from pipeline.records import quick_constructor
from pipeline.transform.dates import month_number
from pipeline.transform.doi import clean_doi, doi_key
from pipeline.transform.ids import normalize_pmcid
from pipeline.transform.text import flatten

# Built for every item of every record: see pipeline/records.py.
_heading = quick_constructor(MeshHeading)
_qualifier = quick_constructor(MeshQualifier)
_suppl = quick_constructor(SupplementaryConcept)
_keyword = quick_constructor(Keyword)
_chemical = quick_constructor(Chemical)
_grant = quick_constructor(Grant)
_link = quick_constructor(CommentCorrection)
_reference = quick_constructor(Reference)
_history = quick_constructor(HistoryDate)
_article_id = quick_constructor(ArticleIdentifier)
_bank = quick_constructor(DataBankAccession)


def _ident(el: etree._Element, attr: str) -> str | None:
    """An identifier attribute, stripped; blank is None."""
    value = el.get(attr)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _major(el: etree._Element) -> bool:
    # MajorTopicYN is "Y" or "N" as PubMed writes it; anything else is not major.
    value = el.get("MajorTopicYN")
    if value == "N" or value is None:
        return False
    return value == "Y" or value.strip().upper() == "Y"


# How many digits follow the letter of each kind of UI.
_DESCRIPTOR_DIGITS = frozenset({6, 9})
_CONCEPT_DIGITS = frozenset({6, 7, 8, 9})


def _well_formed(ui: str, letter: str, digits: frozenset[int]) -> bool:
    return ui[:1] == letter and len(ui) - 1 in digits and ui[1:].isascii() and ui[1:].isdigit()


def _check(problems: list[str], kind: str, ui: str, letter: str, digits: frozenset[int]) -> None:
    """Note in ``problems`` why ``ui`` is not a well-formed identifier of its kind."""
    if not _well_formed(ui, letter, digits):
        counts = sorted(digits)
        said = " or ".join(map(str, counts)) if len(counts) < 3 else f"{counts[0]} to {counts[-1]}"
        problems.append(f"{kind} UI {ui!r} is not {letter} and {said} digits (kept as published)")


def mesh_headings(lists: Iterable[etree._Element], problems: list[str]) -> tuple[MeshHeading, ...]:
    """Every ``MeshHeadingList/MeshHeading``; malformed UIs are noted in ``problems``."""
    out: list[MeshHeading] = []
    for heading_list in lists:
        for heading in heading_list.iterchildren("MeshHeading"):
            descriptor: etree._Element | None = None
            qualifiers: list[MeshQualifier] = []
            for child in heading:
                tag = child.tag
                if tag == "QualifierName":
                    ui = child.get("UI")
                    if ui is not None and not _well_formed(ui, "Q", _DESCRIPTOR_DIGITS):
                        ui = _ident(child, "UI")
                        if ui is not None:
                            _check(problems, "MeSH qualifier", ui, "Q", _DESCRIPTOR_DIGITS)
                    qualifiers.append(_qualifier(ui, flatten(child), _major(child)))
                elif tag == "DescriptorName" and descriptor is None:
                    descriptor = child
            if descriptor is None:
                d_ui = d_name = d_type = None
                d_major = False
            else:
                d_ui = descriptor.get("UI")
                if d_ui is not None and not _well_formed(d_ui, "D", _DESCRIPTOR_DIGITS):
                    d_ui = _ident(descriptor, "UI")
                    if d_ui is not None:
                        _check(problems, "MeSH descriptor", d_ui, "D", _DESCRIPTOR_DIGITS)
                d_name = flatten(descriptor)
                d_major = _major(descriptor)
                d_type = _ident(descriptor, "Type") if descriptor.get("Type") is not None else None
            major = d_major
            if qualifiers and not major:
                major = any(q.major for q in qualifiers)
            out.append(
                _heading(len(out) + 1, d_ui, d_name, d_major, d_type, tuple(qualifiers), major)
            )
    return tuple(out)


def supplementary_concepts(
    lists: Iterable[etree._Element], problems: list[str]
) -> tuple[SupplementaryConcept, ...]:
    """Every ``SupplMeshList/SupplMeshName``: the rare diseases MeSH indexes only so."""
    out: list[SupplementaryConcept] = []
    for suppl_list in lists:
        for name in suppl_list.iterchildren("SupplMeshName"):
            ui = _ident(name, "UI")
            if ui is not None:
                _check(problems, "supplementary concept", ui, "C", _CONCEPT_DIGITS)
            out.append(
                _suppl(position=len(out) + 1, ui=ui, name=flatten(name), type=_ident(name, "Type"))
            )
    return tuple(out)


def keywords(lists: Iterable[etree._Element]) -> tuple[Keyword, ...]:
    """Every ``KeywordList/Keyword``, numbered across the lists, with its list's Owner."""
    out: list[Keyword] = []
    for keyword_list in lists:
        owner = _ident(keyword_list, "Owner")
        for kw in keyword_list.iterchildren("Keyword"):
            out.append(
                _keyword(position=len(out) + 1, keyword=flatten(kw), owner=owner, major=_major(kw))
            )
    return tuple(out)


def chemicals(lists: Iterable[etree._Element]) -> tuple[Chemical, ...]:
    out: list[Chemical] = []
    for chemical_list in lists:
        for chemical in chemical_list.iterchildren("Chemical"):
            registry = substance = None
            substance_ui = None
            for child in chemical:
                tag = child.tag
                if tag == "RegistryNumber" and registry is None:
                    registry = flatten(child)
                elif tag == "NameOfSubstance" and substance is None:
                    substance, substance_ui = flatten(child), _ident(child, "UI")
            out.append(
                _chemical(
                    position=len(out) + 1,
                    registry_number=registry,
                    substance_ui=substance_ui,
                    substance_name=substance,
                )
            )
    return tuple(out)


def grants(lists: Iterable[etree._Element]) -> tuple[Grant, ...]:
    out: list[Grant] = []
    for grant_list in lists:
        for grant in grant_list.iterchildren("Grant"):
            parts: dict[str, str | None] = {}
            for child in grant:
                tag = child.tag
                if isinstance(tag, str) and tag not in parts:
                    parts[tag] = flatten(child)
            out.append(
                _grant(
                    position=len(out) + 1,
                    grant_id=parts.get("GrantID"),
                    acronym=parts.get("Acronym"),
                    agency=parts.get("Agency"),
                    country=parts.get("Country"),
                )
            )
    return tuple(out)


def pmid_value(el: etree._Element | None) -> int | None:
    """A PMID element's number; None when absent or not a positive number."""
    if el is None:
        return None
    text = el.text
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()):
        text = text.strip()
        if not (text.isascii() and text.isdigit()):
            return None
    number = int(text)
    return number if number > 0 else None


def comments_corrections(lists: Iterable[etree._Element]) -> tuple[CommentCorrection, ...]:
    out: list[CommentCorrection] = []
    for links in lists:
        for link in links.iterchildren("CommentsCorrections"):
            source = note = None
            pmid: int | None = None
            for child in link:
                tag = child.tag
                if tag == "RefSource" and source is None:
                    source = flatten(child)
                elif tag == "PMID" and pmid is None:
                    pmid = pmid_value(child)
                elif tag == "Note" and note is None:
                    note = flatten(child)
            out.append(
                _link(
                    position=len(out) + 1,
                    ref_type=_ident(link, "RefType"),
                    ref_pmid=pmid,
                    ref_source=source,
                    note=note,
                )
            )
    return tuple(out)


def references(lists: Iterable[etree._Element]) -> tuple[Reference, ...]:
    """Every ``Reference`` of the reference lists, nested lists flattened in order."""
    out: list[Reference] = []
    _references_into(lists, out)
    return tuple(out)


def _references_into(lists: Iterable[etree._Element], out: list[Reference]) -> None:
    # One C-filtered walk per list (iter with tags) yields, in document order,
    # each Reference (nested lists included), its Citation and its ArticleIds:
    # no element proxy for anything else, no Python loop over other children.
    for ref_list in lists:
        current: etree._Element | None = None
        citation = doi = pmcid = None
        pmid: int | None = None
        for el in ref_list.iter("Reference", "Citation", "ArticleId"):
            tag = el.tag
            if tag == "Reference":
                if current is not None:
                    out.append(_reference(len(out) + 1, citation, pmid, doi, pmcid))
                current, citation, pmid, doi, pmcid = el, None, None, None, None
            elif current is None:
                continue  # the DTD puts both only inside a Reference
            elif tag == "Citation":
                if citation is None:
                    citation = flatten(el)
            else:
                kind = el.get("IdType")
                if kind == "pubmed":
                    if pmid is None:
                        text = el.text
                        # Most are plain digits: pmid_value only for the rest.
                        if (
                            text is not None
                            and text.isdigit()
                            and text.isascii()
                            and text[0] != "0"
                        ):
                            pmid = int(text)
                        else:
                            pmid = pmid_value(el)
                elif kind == "doi":
                    if doi is None:
                        display = clean_doi(el.text)
                        doi = doi_key(display) if display is not None else None
                elif kind == "pmc" and pmcid is None:
                    text = el.text
                    # Most are written "PMC123": nothing to normalize.
                    if text is not None and text[:3] == "PMC" and text[3:].isdigit():
                        pmcid = text
                    else:
                        pmcid = normalize_pmcid(text)
        if current is not None:
            out.append(_reference(len(out) + 1, citation, pmid, doi, pmcid))


def history(lists: Iterable[etree._Element]) -> tuple[HistoryDate, ...]:
    """Every ``History/PubMedPubDate``: its PubStatus and day (None when not a real day)."""
    out: list[HistoryDate] = []
    for hist in lists:
        for when in hist.iterchildren("PubMedPubDate"):
            out.append(_history(when.get("PubStatus"), day_of(when)))
    return tuple(out)


def day_of(el: etree._Element | None) -> datetime.date | None:
    """The date of an element with Year, Month and Day children (None unless all make a day)."""
    if el is None:
        return None
    year = month = day = None
    # A plain walk: a date has five children at most, and iterchildren() with
    # several tags costs more to set up than the proxies of Hour and Minute.
    for child in el:
        tag = child.tag
        if tag == "Year":
            if year is None:
                year = child.text
        elif tag == "Month":
            if month is None:
                month = child.text
        elif tag == "Day" and day is None:
            day = child.text
    if year is None or month is None or day is None:
        return None
    return _day(year, month, day)


@cache
def _day(year: str, month: str, day: str) -> datetime.date | None:
    # Cached: a record's history dates repeat across the records of a file.
    year, day = year.strip(), day.strip()
    number = month_number(month)
    if number is None or not (year + day).isascii() or not year.isdigit() or not day.isdigit():
        return None
    try:
        return datetime.date(int(year), number, int(day))
    except ValueError:
        return None


def article_ids(ids: Iterable[etree._Element]) -> tuple[ArticleIdentifier, ...]:
    """The record's own ``ArticleId`` elements, already found, as published (trimmed)."""
    return tuple(_article_id(id_type=_ident(el, "IdType"), value=flatten(el)) for el in ids)


def data_banks(lists: Iterable[etree._Element]) -> tuple[DataBankAccession, ...]:
    """One row per accession number of every ``DataBank``; a bank without any gives one."""
    out: list[DataBankAccession] = []
    for bank_list in lists:
        for bank in bank_list.iterchildren("DataBank"):
            name = None
            accessions: list[str | None] = []
            for child in bank:
                tag = child.tag
                if tag == "DataBankName" and name is None:
                    name = flatten(child)
                elif tag == "AccessionNumberList":
                    accessions.extend(flatten(n) for n in child.iterchildren("AccessionNumber"))
            for accession in accessions or [None]:
                out.append(_bank(position=len(out) + 1, name=name, accession=accession))
    return tuple(out)


def nlm_pmcid(other_ids: Iterable[etree._Element]) -> str | None:
    """A PMC id given only as ``OtherID Source="NLM"`` (``PMC4688250 [Available on 12/22/16]``)."""
    for el in other_ids:
        if el.get("Source") != "NLM":
            continue
        text = (el.text or "").strip()
        if text.startswith("PMC"):
            head = text.split(None, 1)[0]
            if head[3:].isascii() and head[3:].isdigit():
                return head
    return None


def publication_type_uis(types: Iterable[etree._Element]) -> tuple[str | None, ...]:
    """Each non-blank ``PublicationType``'s UI, aligned with the publication types."""
    return tuple(_ident(el, "UI") for el in types if flatten(el) is not None)
