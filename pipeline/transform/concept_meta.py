"""A MedGen summary's ``ConceptMeta`` → the concept's codes, genes, inheritance, features.

``ConceptMeta`` is an escaped XML fragment inside the DocumentSummary;
:mod:`pipeline.transform.medgen` unescapes it and parses it with the hardened
parser of :mod:`pipeline.xmlsafe`, and hands the root here. What is read (the
layout of NCBI's answers, e.g. the Dent disease 2 summary, UID 336867):

* ``Names/Name`` (attributes ``SAB``, ``CODE``, ``SDUI``, ``TTY``, ``type``) → codes;
  the ``SDUI`` (else ``CODE``) of the ``SAB="MSH"`` names → MeSH ids;
* ``Chromosome``, ``Cytogenetic``; ``OMIM/MIM`` → MIM numbers;
* ``ModesOfInheritance/ModeOfInheritance`` (``@CUI``, ``Name``) → inheritance;
* ``ClinicalFeatures/ClinicalFeature`` (``@CUI``, ``@SDUI`` the HPO id, ``Name``,
  ``SemanticType``) → features (``PhenotypicAbnormalities`` repeats them by organ
  system and is not read);
* ``AssociatedGenes/Gene`` (``@gene_id``, ``@chromosome``, ``@cytogen_loc``, the symbol
  as text) → genes;
* ``RelatedDisorders/*`` with a ``@CUI`` → relations. The summary gives no relation
  type, so they are ``RO`` (UMLS's "other relation") with no source.

Everything is kept in document order, duplicates included: one row per item.
An item without the id its table needs (a feature without a CUI, a gene
without a numeric ``gene_id``) makes the ConceptMeta unreadable (the concept
fails, naming it) rather than vanish.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from pipeline.errors import ResponseFormatError
from pipeline.models import (
    ConceptCode,
    ConceptFeature,
    ConceptGene,
    ConceptInheritance,
    ConceptRelation,
)

RELATED_DISORDER = "RO"


@dataclass(frozen=True, slots=True)
class ConceptDetails:
    """What ConceptMeta says of a concept beyond its names and definitions."""

    codes: tuple[ConceptCode, ...] = ()
    mesh_ids: tuple[str, ...] = ()
    omim: tuple[str, ...] = ()
    chromosome: str | None = None
    cytogenetic: str | None = None
    inheritance: tuple[ConceptInheritance, ...] = ()
    features: tuple[ConceptFeature, ...] = ()
    genes: tuple[ConceptGene, ...] = ()
    relations: tuple[ConceptRelation, ...] = ()


def text_of(el: etree._Element | None) -> str | None:
    """An element's text, whitespace collapsed; None when there is none."""
    if el is None:
        return None
    value = " ".join("".join(str(t) for t in el.itertext()).split())
    return value or None


def _attr(el: etree._Element, name: str) -> str | None:
    value = (el.get(name) or "").strip()
    return value or None


def concept_details(root: etree._Element) -> ConceptDetails:
    """Read the wrapped ConceptMeta fragment (``<ConceptMeta>…</ConceptMeta>``)."""
    codes = tuple(_codes(root))
    return ConceptDetails(
        codes=codes,
        mesh_ids=mesh_ids(codes),
        omim=tuple(dict.fromkeys(t for el in root.iterfind("OMIM/MIM") if (t := text_of(el)))),
        chromosome=text_of(root.find("Chromosome")),
        cytogenetic=text_of(root.find("Cytogenetic")),
        inheritance=tuple(
            ConceptInheritance(_required(el, "CUI"), text_of(el.find("Name")))
            for el in root.iterfind("ModesOfInheritance/ModeOfInheritance")
        ),
        features=tuple(
            ConceptFeature(
                feature_cui=_required(el, "CUI"),
                hpo_id=_attr(el, "SDUI"),
                name=text_of(el.find("Name")),
                semantic_type=text_of(el.find("SemanticType")),
            )
            for el in root.iterfind("ClinicalFeatures/ClinicalFeature")
        ),
        genes=tuple(_gene(el) for el in root.iterfind("AssociatedGenes/Gene")),
        relations=tuple(
            ConceptRelation(RELATED_DISORDER, cui, None)
            for el in root.iterfind("RelatedDisorders/*")
            if (cui := _attr(el, "CUI"))
        ),
    )


def _codes(root: etree._Element) -> list[ConceptCode]:
    return [
        ConceptCode(
            source=_attr(el, "SAB"),
            code=_attr(el, "CODE"),
            source_id=_attr(el, "SDUI"),
            term_type=_attr(el, "TTY"),
            name=name,
            preferred=el.get("type") == "preferred",
        )
        for el in root.iterfind("Names/Name")
        if (name := text_of(el))
    ]


def mesh_ids(codes: tuple[ConceptCode, ...]) -> tuple[str, ...]:
    """Distinct MeSH ids of the names with source MSH, first seen first."""
    ids = (c.source_id or c.code for c in codes if c.source == "MSH")
    return tuple(dict.fromkeys(i for i in ids if i))


def _required(el: etree._Element, name: str) -> str:
    value = _attr(el, name)
    if value is None:
        raise ResponseFormatError(f"{el.tag} without a {name}")
    return value


def _gene(el: etree._Element) -> ConceptGene:
    raw = _attr(el, "gene_id") or ""
    if not (raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63):
        raise ResponseFormatError(f"Gene {text_of(el)!r}: gene_id {raw!r} is not an NCBI Gene id")
    return ConceptGene(
        gene_id=int(raw),
        symbol=text_of(el),
        chromosome=_attr(el, "chromosome"),
        cytogenetic=_attr(el, "cytogen_loc"),
    )
