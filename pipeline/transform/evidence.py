"""Why a citation belongs to its concept: MedGen's own link, or the article's MeSH indexing.

MedGen's links (``medgen_pubmed``) are curated and sparse; PubMed indexes many
more articles with the concept's MeSH descriptor or supplementary concept.
``--evidence medgen,mesh`` adds those, and each citation row says which said so:

* ``medgen_link``: MedGen links the concept to the article;
* ``mesh``: the article is indexed with one of the concept's ``mesh_ids``;
* ``mesh_major``: ... as a major topic (the descriptor or one of its qualifiers).

A search matches the id exactly, as the record's own lists do: a descriptor
with ``[mh:noexp]`` (``[mh]`` would add every narrower descriptor of the MeSH
tree), a supplementary concept with ``[nm]`` (never exploded).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from pipeline.models import Article

MEDGEN = "medgen"
MESH = "mesh"
# What --evidence may name, in the order rows list their marks.
SOURCES = (MEDGEN, MESH)
DEFAULT = (MEDGEN,)

MEDGEN_LINK = "medgen_link"
MESH_MAJOR = "mesh_major"
# Every mark a row may carry, in the order it lists them.
MARKS = (MEDGEN_LINK, MESH, MESH_MAJOR)
LINKED_ONLY = (MEDGEN_LINK,)


def mesh_term(mesh_ids: Iterable[str]) -> str | None:
    """``"D015470"[mh:noexp] OR "C000657245"[nm]`` for a concept's ids (None: none).

    Descriptor ids start with D, supplementary concepts with C; any other id is
    no MeSH record a PubMed article can be indexed with.
    """
    parts = []
    for ui in dict.fromkeys(mesh_ids):
        if ui.startswith("D"):
            parts.append(f'"{ui}"[mh:noexp]')
        elif ui.startswith("C"):
            parts.append(f'"{ui}"[nm]')
    return " OR ".join(parts) or None


def article_mesh(article: Article) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The article's MeSH ids (descriptors, then supplementary concepts) and those of
    them that are a major topic."""
    uis = [h.descriptor_ui for h in article.mesh_headings if h.descriptor_ui]
    uis += [s.ui for s in article.supplementary_concepts if s.ui]
    major = [h.descriptor_ui for h in article.mesh_headings if h.descriptor_ui and h.major]
    return tuple(uis), tuple(major)


def marks(
    *, linked: bool, mesh_ids: Iterable[str], uis: Iterable[str], major_uis: Iterable[str]
) -> tuple[str, ...]:
    """The evidence of one (concept, article): ``mesh_ids`` the concept's, ``uis``
    and ``major_uis`` the article's (see ``article_mesh``)."""
    wanted = set(mesh_ids)
    out = [MEDGEN_LINK] if linked else []
    if wanted.intersection(uis):
        out.append(MESH)
        if wanted.intersection(major_uis):
            out.append(MESH_MAJOR)
    return tuple(out)


def count_marks(evidence: Iterable[Iterable[str]]) -> dict[str, int]:
    """Rows per mark (a row with two marks counts for each), every mark listed."""
    counts = dict.fromkeys(MARKS, 0)
    for row in evidence:
        for mark in row:
            counts[mark] += 1
    return counts


def row_evidence(
    linked: Collection[int] | None, mesh_ids: Iterable[str], article: Article
) -> tuple[str, ...]:
    """The evidence of a citation a search found: ``linked`` the PMIDs MedGen links
    (None: no MeSH search was made, every citation is linked). One neither linked
    nor carrying the id in its record was found by the MeSH search alone (PubMed's
    indexing may be newer than the record read): ``mesh`` still."""
    if linked is None:
        return LINKED_ONLY
    uis, major = article_mesh(article)
    found = marks(linked=article.pmid in linked, mesh_ids=mesh_ids, uis=uis, major_uis=major)
    return found or (MESH,)
