"""A small fake world of several concepts for the report and the cookbook.

Three linked concepts whose PubMed sets overlap, one concept without links,
60 articles spread over 1995-2024 with DOIs, some PMC ids and some authors
with ORCID iDs (valid check digits), and every configured category filter
matching a different slice of the articles. Everything is derived from the
PMID by arithmetic, so the world is the same at every run.
"""

from __future__ import annotations

from pipeline.config import load_settings
from tests.fakes.dataset import Dataset, FakeAuthor, FakeConcept, pubmed_article

FIRST_PMID = 30_000_001
ARTICLES = 60
JOURNALS = ("J Fake Med", "Mock Res Lett", "Stub Rev", "Ann Synth Sci")
# Valid ORCID iDs (check digits verified), given to the first author of every 7th article.
ORCIDS = ("0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X")

CONCEPTS = (
    FakeConcept(
        uid=7_100_001,
        concept_id="C9100001",
        title="Fakeitis",
        definition="An inflammation of made-up tissue.",
        synonyms=("Fake inflammation", "Fakeitis syndrome"),
    ),
    FakeConcept(uid=7_100_002, concept_id="C9100002", title="Mockosis"),
    FakeConcept(
        uid=7_100_003,
        concept_id="C9100003",
        title="Stub syndrome",
        definition="A syndrome of placeholders.",
    ),
    FakeConcept(uid=7_100_004, concept_id="C9100004", title="Unlinked disorder"),
)
LINKS = {
    7_100_001: range(FIRST_PMID, FIRST_PMID + 40),
    7_100_002: range(FIRST_PMID + 24, FIRST_PMID + 60),
    7_100_003: [*range(FIRST_PMID, FIRST_PMID + 10), *range(FIRST_PMID + 50, FIRST_PMID + 60)],
}
WORLD_CUIS = [c.concept_id for c in CONCEPTS]


def _authors(n: int) -> list[FakeAuthor]:
    first: FakeAuthor = ("Roe", "Richard")
    if n % 7 == 0:
        first = ("Roe", "Richard", ORCIDS[(n // 7) % len(ORCIDS)])
    return [first, ("Doe", "Jane"), f"Fake Study Group {n % 3 + 1}"]


def _article(pmid: int) -> str:
    n = pmid - FIRST_PMID
    return pubmed_article(
        pmid,
        year=1995 + n % 30,
        month=1 + n % 12,
        day=1 + n % 28,
        title=f"Synthetic finding number {n}.",
        authors=_authors(n),
        doi=f"10.5555/fake.{n:04d}",
        journal=JOURNALS[n % len(JOURNALS)],
        pmcid=f"PMC{9_000_000 + n}" if n % 4 == 0 else None,
    )


def report_world() -> Dataset:
    pmids = range(FIRST_PMID, FIRST_PMID + ARTICLES)
    categories = load_settings(env={}).categories
    # Category i matches every PMID whose offset is i modulo 3 or divisible by i + 4.
    filters = {
        c.term: [
            p for p in pmids if (p - FIRST_PMID) % 3 == i % 3 or (p - FIRST_PMID) % (i + 4) == 0
        ]
        for i, c in enumerate(categories)
    }
    return Dataset(CONCEPTS, [_article(p) for p in pmids], LINKS, filters)
