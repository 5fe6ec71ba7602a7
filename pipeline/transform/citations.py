"""Citation rows and their display, exactly as a MedGen concept page prints them.

    Marit G, Cony P, Duclos F
    Haematol Blood Transfus 1990;33:614-8. doi: 10.1007/978-3-642-74643-7_112. PMID: 2323662

``source`` is the part before the first period: ``Journal Date;Vol(Issue):Pages``.
"""

from __future__ import annotations

from pipeline.models import Article, CitationRow
from pipeline.transform.evidence import LINKED_ONLY


def source_string(
    journal: str | None,
    date: str | None,
    volume: str | None,
    issue: str | None,
    pages: str | None,
) -> str | None:
    """``Ann Hematol 2024 Oct;103(10):4057-4063`` (parts absent are left out)."""
    head = " ".join(p for p in (journal, date) if p)
    issue_part = f"({issue})" if issue else ""
    located = f"{volume or ''}{issue_part}"
    if pages:
        located = f"{located}:{pages}" if located else pages
    if not head and not located:
        return None
    return f"{head};{located}" if located else head


def citation_line(
    source: str | None,
    epub_date: str | None,
    doi: str | None,
    pmid: int,
    free_pmc: bool,
) -> str:
    """The page's second line: ``Source. [Epub D ]doi: X. PMID: N[Free PMC Article]``.

    With an Epub date but no DOI the page closes the date with a period instead.
    """
    parts = [f"{source}." if source else ""]
    if epub_date and doi:
        parts.append(f"Epub {epub_date}")
    elif epub_date:
        parts.append(f"Epub {epub_date}.")
    if doi:
        parts.append(f"doi: {doi}.")
    parts.append(f"PMID: {pmid}")
    line = " ".join(p for p in parts if p)
    return line + ("Free PMC Article" if free_pmc else "")


def citation_row(
    cui: str,
    category: str,
    rank: int,
    article: Article,
    evidence: tuple[str, ...] = LINKED_ONLY,
) -> CitationRow:
    return CitationRow(
        cui=cui,
        category=category,
        rank=rank,
        pmid=article.pmid,
        title=article.title,
        journal=article.journal.medline_ta,
        pub_year=article.pub_date.year,
        doi=article.doi,
        doi_display=article.doi_display,
        pmcid=article.pmcid,
        authors_display=article.authors_display,
        source=source_string(
            article.journal.display,
            article.pub_date.display,
            article.volume,
            article.issue,
            article.pages,
        ),
        epub_date=article.epub_date,
        retracted=article.retracted,
        pub_date=article.pub_date.start,
        evidence=evidence,
    )
