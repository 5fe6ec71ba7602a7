"""Identifiers of the record itself: DOI and PMC id.

Only two places name the record's own ids: ``ArticleIdList`` directly under
``PubmedData`` (``BookDocument`` for books) and ``Article/ELocationID``. The
``ReferenceList`` also holds ``ArticleIdList`` elements, but those are the
cited papers' ids, so lookups here never descend below the list's own children.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from lxml import etree

from pipeline.transform.doi import DoiChoice, choose_doi
from pipeline.transform.text import collapse_ws, flag, flatten


def article_id(id_list: etree._Element | None, id_type: str) -> str | None:
    """The first non-blank direct ``ArticleId`` child of the given IdType."""
    return article_id_among(_article_id_elements(id_list), id_type)


def article_id_among(ids: Iterable[etree._Element], id_type: str) -> str | None:
    """``article_id`` over the list's ``ArticleId`` children, already found."""
    for raw in _ids_of_type(ids, id_type):
        if raw is not None:
            return raw
    return None


def normalize_pmcid(raw: str | None) -> str | None:
    """``123`` -> ``PMC123``; any other text is kept as published.

    Odd values are not rejected: the demo data uses marked placeholders.
    """
    text = collapse_ws(raw)
    if text is None:
        return None
    return f"PMC{text}" if text.isdigit() else text


def _doi_candidates(
    elocations: Iterable[etree._Element], ids: Iterable[etree._Element]
) -> Iterator[tuple[str, str | None]]:
    """``(source, raw)`` pairs in order of trust: valid ELocationIDs, then ArticleIds.

    ``elocations`` are those of ``Article`` (``Book`` for a book); ``ids`` the
    record's own ``ArticleIdList`` children.
    """
    for loc in elocations:
        # ValidYN="N" marks a DOI NCBI knows to be wrong; absent means valid.
        if loc.get("EIdType") == "doi" and flag(loc, "ValidYN", default=True):
            yield "elocation", flatten(loc)
    for raw in _ids_of_type(ids, "doi"):
        yield "articleidlist", raw


def record_doi(article: etree._Element | None, id_list: etree._Element | None) -> DoiChoice:
    """The record's DOI from its ELocationIDs and ArticleIdList, with conflicts and problems.

    A DOI ELocationID marked ``ValidYN="N"`` is never a candidate; it is named
    in the problems, before those of the candidates.
    """
    return record_doi_among(list(_elocations(article)), list(_article_id_elements(id_list)))


def record_doi_among(
    elocations: Sequence[etree._Element], ids: Iterable[etree._Element]
) -> DoiChoice:
    """``record_doi`` over the ``ELocationID`` and ``ArticleId`` elements, already found."""
    choice = choose_doi(_doi_candidates(elocations, ids))
    flagged = tuple(_marked_invalid(elocations))
    return replace(choice, problems=flagged + choice.problems) if flagged else choice


def _marked_invalid(elocations: Iterable[etree._Element]) -> Iterator[str]:
    for loc in elocations:
        if loc.get("EIdType") == "doi" and not flag(loc, "ValidYN", default=True):
            raw = flatten(loc)
            if raw is not None:
                yield f"ELocationID doi {raw!r} is marked invalid (ValidYN=N)"


def _elocations(article: etree._Element | None) -> Iterable[etree._Element]:
    return () if article is None else article.iterfind("ELocationID")


def _article_id_elements(id_list: etree._Element | None) -> Iterable[etree._Element]:
    return () if id_list is None else id_list.iterfind("ArticleId")


def _ids_of_type(ids: Iterable[etree._Element], id_type: str) -> Iterator[str | None]:
    for el in ids:
        if el.get("IdType") == id_type:
            yield flatten(el)
