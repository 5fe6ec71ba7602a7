"""Records read again from an earlier night's efetch answers (build --incremental).

Pure: an answer's bytes in, its records out. Only the records of the PMIDs
asked for are read in full; the rest are passed over at the cost of parsing.
"""

from __future__ import annotations

from collections.abc import Container

from lxml import etree

from pipeline.models import Article, Reject
from pipeline.transform.pubmed import (
    RECORD_TAGS,
    UnreadableRecordError,
    article_from_element,
    efetch_root,
    quick_pmid,
    reject_from,
)


def record_pmids(body: bytes) -> list[int]:
    """The PMID of each record of an efetch answer whose PMID is readable, in order."""
    return [pmid for _, pmid in _records(body) if pmid is not None]


def records_of(body: bytes, wanted: Container[int]) -> tuple[list[Article], list[Reject]]:
    """The records of ``wanted`` PMIDs in an efetch answer, each read as a build
    reads it (an unreadable one is its reject); the first of a PMID met twice."""
    articles: list[Article] = []
    rejects: list[Reject] = []
    seen: set[int] = set()
    for element, pmid in _records(body):
        if pmid is None or pmid not in wanted or pmid in seen:
            continue
        seen.add(pmid)
        try:
            articles.append(article_from_element(element))
        except UnreadableRecordError as exc:
            rejects.append(reject_from(element, exc))
    return articles, rejects


def _records(body: bytes) -> list[tuple[etree._Element, int | None]]:
    root = efetch_root(body)
    return [(child, quick_pmid(child)) for child in root if child.tag in RECORD_TAGS]
