"""MedGen ESummary (version 2.0) → Concept records.

``Bio.Entrez.read`` cannot read these offline (no DTD ships for MedGen), so
lxml does. ``ConceptMeta`` is XML escaped inside text: it is parsed a second
time, with the same hardened parser, for names and definitions with sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from pipeline.errors import ResponseFormatError
from pipeline.models import Concept, ConceptDefinition, ConceptName
from pipeline.transform.concept_meta import ConceptDetails, concept_details
from pipeline.transform.concept_meta import text_of as _text
from pipeline.xmlsafe import parse_xml


@dataclass(frozen=True, slots=True)
class SummaryError:
    """A per-UID ``<error>`` inside an otherwise good ESummary answer."""

    uid: int | None
    message: str


def parse_medgen_summaries(body: bytes) -> tuple[Concept | SummaryError, ...]:
    root = parse_xml(body, what="esummary medgen")
    docs = root.findall("DocumentSummarySet/DocumentSummary")
    return tuple(_one(doc) for doc in docs)


def _one(doc: etree._Element) -> Concept | SummaryError:
    uid_text = doc.get("uid")
    uid = int(uid_text) if uid_text and uid_text.isdigit() else None
    error = _text(doc.find("error"))
    if error is not None or uid is None:
        return SummaryError(uid, error or "DocumentSummary without a uid")
    cui, title = _text(doc.find("ConceptId")), _text(doc.find("Title"))
    if cui is None or title is None:
        return SummaryError(uid, "DocumentSummary without ConceptId or Title")
    try:
        names, definitions, details = _concept_meta(doc.findtext("ConceptMeta") or "")
    except ResponseFormatError as exc:
        return SummaryError(uid, f"ConceptMeta is not readable: {exc.detail}")
    definition, source = _definition(_text(doc.find("Definition")), definitions)
    semantic_type = _text(doc.find("SemanticType"))
    return Concept(
        uid=uid,
        cui=cui,
        name=title,
        definition=definition,
        definition_source=source,
        semantic_type=semantic_type,
        semantic_id=_text(doc.find("SemanticId")),
        names=names,
        definitions=definitions,
        semantic_types=(semantic_type,) if semantic_type else (),
        omim=details.omim,
        chromosome=details.chromosome,
        cytogenetic=details.cytogenetic,
        mesh_ids=details.mesh_ids,
        codes=details.codes,
        genes=details.genes,
        inheritance=details.inheritance,
        features=details.features,
        relations=details.relations,
    )


def _definition(
    summary_text: str | None, definitions: tuple[ConceptDefinition, ...]
) -> tuple[str | None, str | None]:
    """The summary's Definition, with its source found among ConceptMeta's."""
    for d in definitions:
        if summary_text is None or d.text == summary_text:
            return d.text, d.source
    return summary_text, None


def _concept_meta(
    meta: str,
) -> tuple[tuple[ConceptName, ...], tuple[ConceptDefinition, ...], ConceptDetails]:
    if not meta.strip():
        return (), (), ConceptDetails()
    # ConceptMeta is a run of sibling elements: wrap it to make one document.
    root = parse_xml(f"<ConceptMeta>{meta}</ConceptMeta>".encode(), what="ConceptMeta")
    names = tuple(
        ConceptName(name=t, source=el.get("SAB"), preferred=el.get("type") == "preferred")
        for el in root.iterfind("Names/Name")
        if (t := _text(el))
    )
    definitions = tuple(
        ConceptDefinition(text=t, source=el.get("source"))
        for el in root.iterfind("Definitions/Definition")
        if (t := _text(el))
    )
    return names, definitions, concept_details(root)
