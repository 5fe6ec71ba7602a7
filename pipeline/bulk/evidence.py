"""MeSH evidence on the bulk path: which records a parse keeps, which rows a concept gets.

A parse keeps only the records asked for (the linked PMIDs, ``keep``). With
``--evidence medgen,mesh`` a concept's citations also come from records indexed
with one of its ``mesh_ids``, whatever their PMID: ``MeshKeep`` lets a worker
keep those too, by reading a record's descriptor and supplementary-concept UI
attributes (one compiled XPath over a few elements) before any full read, and
only for records the PMIDs did not keep already.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from pipeline.models import Concept
from pipeline.transform import evidence

# Both record shapes: a PubmedArticle's MedlineCitation, or a bare MedlineCitation.
_UIS = etree.XPath(
    "(self::MedlineCitation|MedlineCitation)/MeshHeadingList/MeshHeading/DescriptorName/@UI"
    " | (self::MedlineCitation|MedlineCitation)/SupplMeshList/SupplMeshName/@UI"
)
# The tables whose elements the skim must leave for the MeSH ids to be read.
MESH_TABLES = ("mesh_headings", "supplementary_concepts")


@dataclass(frozen=True, slots=True)
class MeshKeep:
    """The PMIDs to keep, and the MeSH ids whose records are kept whatever their PMID."""

    pmids: Container[int]
    mesh_ids: frozenset[str]

    def __contains__(self, pmid: object) -> bool:
        return pmid in self.pmids

    def indexes(self, element: etree._Element) -> bool:
        """Is the record indexed with one of ``mesh_ids``?"""
        found = _UIS(element)
        return isinstance(found, list) and any(str(ui) in self.mesh_ids for ui in found)


def keeps_by_mesh(keep: Container[int] | None, element: etree._Element) -> bool:
    """A record the PMIDs do not keep, kept for its MeSH indexing."""
    return isinstance(keep, MeshKeep) and keep.indexes(element)


def wanted_mesh_ids(mesh_ids: Iterable[Iterable[str]]) -> frozenset[str]:
    return frozenset(ui for ids in mesh_ids for ui in ids)


def concept_pmids(
    linked: Sequence[int],
    mesh_ids: Sequence[str],
    present: Container[int],
    by_mesh: Mapping[str, Sequence[int]],
) -> list[int]:
    """One concept's citations, each once: its linked PMIDs with a record (``present``),
    then the records indexed with one of its ``mesh_ids`` (``by_mesh``: UI -> PMIDs)."""
    pmids = [p for p in linked if p in present]
    pmids += [p for ui in mesh_ids for p in by_mesh.get(ui, ())]
    return list(dict.fromkeys(pmids))


def hit_marks(
    concepts: Iterable[Concept],
    links: Mapping[str, Sequence[int]],
    hits: Mapping[tuple[str, str], Sequence[int]],
    fields: Mapping[int, Mapping[str, Any]],
) -> dict[tuple[str, int], tuple[str, ...]]:
    """The evidence of every (cui, PMID) of ``hits``, from the links and the records'
    MeSH ids. A citation neither linked nor indexed in its record with one of the
    concept's ids was found by a MeSH search alone (``--online``): ``mesh`` still."""
    mesh_ids = {c.cui: c.mesh_ids for c in concepts}
    linked = {cui: set(pmids) for cui, pmids in links.items()}
    out: dict[tuple[str, int], tuple[str, ...]] = {}
    for (cui, _), pmids in hits.items():
        for pmid in pmids:
            if (cui, pmid) in out:
                continue
            row = fields[pmid]
            found = evidence.marks(
                linked=pmid in linked.get(cui, ()),
                mesh_ids=mesh_ids.get(cui, ()),
                uis=row["mesh_uis"],
                major_uis=row["mesh_major_uis"],
            )
            out[(cui, pmid)] = found or (evidence.MESH,)
    return out


def index_by_mesh(fields: Mapping[int, Mapping[str, Any]]) -> dict[str, list[int]]:
    """UI -> PMIDs of the kept records indexed with it."""
    out: dict[str, list[int]] = {}
    for pmid, row in fields.items():
        for ui in dict.fromkeys(row["mesh_uis"]):
            out.setdefault(ui, []).append(pmid)
    return out
