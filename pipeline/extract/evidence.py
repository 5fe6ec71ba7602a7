"""A category searched with MeSH evidence: ``(#linked OR <MeSH terms>) AND filter``.

The linked set alone (``#linked AND filter``, the search every build sends)
says which citations MedGen links; the wider search, with the concept's MeSH
ids ORed to the linked set on the history server, gives every citation of the
category and their ranks, in the same ``sort=pub_date`` order as ever.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipeline.extract.client import CategorySearch, EutilsClient
from pipeline.models import LinkHistory


@dataclass(frozen=True, slots=True)
class EvidenceSearch:
    hit: CategorySearch  # the citations, ranked
    # The PMIDs of ``hit`` MedGen links (None: all of them, no MeSH search was sent).
    linked: frozenset[int] | None
    link: LinkHistory  # the (possibly renewed) linked set, without MeSH terms


def search_with_evidence(
    client: EutilsClient,
    link: LinkHistory,
    term: str,
    mesh: str | None,
    *,
    page_size: int,
    limit: int | None,
) -> EvidenceSearch:
    """``mesh``: the concept's MeSH terms (see evidence.mesh_term); None sends exactly
    the search a build without MeSH evidence sends, and nothing else."""
    linked, link = client.search_category(link, term, page_size=page_size, limit=limit)
    if mesh is None:
        return EvidenceSearch(linked, None, link)
    wider, widened = client.search_category(
        replace(link, also=mesh), term, page_size=page_size, limit=limit
    )
    return EvidenceSearch(wider, frozenset(linked.pmids), replace(widened, also=None))
