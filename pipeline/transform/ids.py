"""Identifiers of the record itself: DOI and PMC id.

Only two places name the record's own ids: ``ArticleIdList`` directly under
``PubmedData`` (``BookDocument`` for books) and ``Article/ELocationID``. The
``ReferenceList`` also holds ``ArticleIdList`` elements, but those are the
cited papers' ids, so lookups here never descend below the list's own children.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from lxml import etree

from pipeline.transform.doi import DoiChoice, choose_doi
from pipeline.transform.text import collapse_ws, flag, flatten


def article_id(id_list: etree._Element | None, id_type: str) -> str | None:
    """The first non-blank direct ``ArticleId`` child of the given IdType."""
    for raw in _article_ids(id_list, id_type):
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


def doi_candidates(
    article: etree._Element | None, id_list: etree._Element | None
) -> Iterator[tuple[str, str | None]]:
    """``(source, raw)`` pairs in order of trust: valid ELocationIDs, then ArticleIds.

    ``article`` is the element holding the ELocationIDs (``Article``, or
    ``Book`` for a book); ``id_list`` the record's own ``ArticleIdList``.
    """
    if article is not None:
        for loc in article.iterfind("ELocationID"):
            # ValidYN="N" marks a DOI NCBI knows to be wrong; absent means valid.
            if loc.get("EIdType") == "doi" and flag(loc, "ValidYN", default=True):
                yield "elocation", flatten(loc)
    for raw in _article_ids(id_list, "doi"):
        yield "articleidlist", raw


def record_doi(article: etree._Element | None, id_list: etree._Element | None) -> DoiChoice:
    """The record's DOI from its ELocationIDs and ArticleIdList, with conflicts and problems.

    A DOI ELocationID marked ``ValidYN="N"`` is never a candidate; it is named
    in the problems, before those of the candidates.
    """
    choice = choose_doi(doi_candidates(article, id_list))
    flagged = tuple(marked_invalid_dois(article))
    return replace(choice, problems=flagged + choice.problems) if flagged else choice


def marked_invalid_dois(article: etree._Element | None) -> Iterator[str]:
    """A problem text per non-blank DOI ELocationID that PubMed marks ``ValidYN="N"``."""
    if article is None:
        return
    for loc in article.iterfind("ELocationID"):
        if loc.get("EIdType") == "doi" and not flag(loc, "ValidYN", default=True):
            raw = flatten(loc)
            if raw is not None:
                yield f"ELocationID doi {raw!r} is marked invalid (ValidYN=N)"


def _article_ids(id_list: etree._Element | None, id_type: str) -> Iterator[str | None]:
    if id_list is None:
        return
    for el in id_list.iterfind("ArticleId"):
        if el.get("IdType") == id_type:
            yield flatten(el)
