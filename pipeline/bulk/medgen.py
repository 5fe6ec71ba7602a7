"""The requested concepts, read from MedGen's bulk files (links, names, definitions)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from pipeline.bulk.concept_files import ConceptFileReader, ConceptFiles
from pipeline.errors import UsageError
from pipeline.extract.bulk_files import read_concept_texts, read_links, read_links_table
from pipeline.models import (
    Concept,
    ConceptDefinition,
    ConceptFailure,
    ConceptName,
    ConceptRef,
    MedgenInput,
)
from pipeline.transform.medgen_files import ConceptLinks, ConceptText

_NOT_FOUND = "not in the links file, NAMES.RRF or MGDEF.RRF: not a MedGen concept"


def read_medgen(
    refs: Sequence[ConceptRef],
    links: Path,
    names: Path | None,
    definitions: Path | None,
    concept_files: ConceptFiles | None = None,
) -> MedgenInput:
    """Concepts by CUI or UID; one with names but no links is a valid, empty concept."""
    named = [r for r in refs if r.kind == "name"]
    if named:
        raise UsageError(
            f"bulk takes CUIs or MedGen UIDs, not names ({named[0].value!r}); "
            "look the concept up with `medgen-etl build --dry-run` first"
        )
    cuis = {r.value for r in refs if r.kind == "cui"}
    uids = {int(r.value) for r in refs if r.kind == "uid"}
    scan = read_links(links, cuis=cuis, uids=uids)
    by_cui = {c.cui: c for c in scan.concepts}
    by_uid = {c.uid: c for c in scan.concepts}
    text_cuis = cuis | set(by_cui)
    texts: dict[str, ConceptText] = {}
    if names is not None and definitions is not None and text_cuis:
        texts = {t.cui: t for t in read_concept_texts(names, definitions, text_cuis).concepts}
    concepts: list[tuple[ConceptRef, Concept]] = []
    failures: list[ConceptFailure] = []
    for ref in refs:
        found = by_uid.get(int(ref.value)) if ref.kind == "uid" else by_cui.get(ref.value)
        text = texts.get(found.cui if found else ref.value)
        if found is None and text is None:
            failures.append(ConceptFailure(ref.value, _NOT_FOUND))
            continue
        concepts.append((ref, _concept(ref, found, text)))
    # A CUI under two UIDs (seen in no release, but the file allows it) keeps the
    # links of both: one concept per CUI, nothing lost.
    links_by_cui: dict[str, set[int]] = {}
    for c in scan.concepts:
        links_by_cui.setdefault(c.cui, set()).update(c.pmids)
    grouped = {cui: tuple(sorted(pmids)) for cui, pmids in links_by_cui.items()}
    warnings = tuple(str(r) for r in scan.rejects)
    found_concepts, details = _details(concepts, concept_files, all_concepts=False)
    return MedgenInput(
        found_concepts,
        tuple(failures),
        grouped,
        warnings=warnings,
        details=details,
        sources=_sources(links, names, definitions, concept_files),
    )


def _sources(
    links: Path, names: Path | None, definitions: Path | None, files: ConceptFiles | None
) -> tuple[Path, ...]:
    given = [links, names, definitions, *(dataclasses.astuple(files) if files else ())]
    return tuple(p for p in given if p is not None)


def _details(
    concepts: list[tuple[ConceptRef, Concept]], files: ConceptFiles | None, *, all_concepts: bool
) -> tuple[tuple[tuple[ConceptRef, Concept], ...], ConceptFileReader | None]:
    """The concepts completed from the concept files, and the reader of their tables.

    A few concepts: every table is read now (small); all concepts: the tables are
    streamed when the snapshot is written, only the concept columns are read now.
    """
    if files is None or not files.given():
        return tuple(concepts), None
    cuis = {c.cui for _, c in concepts}
    reader = ConceptFileReader(files, cuis)
    if not all_concepts:
        reader.materialize()
    completed = reader.concepts([c for _, c in concepts])
    return tuple((ref, c) for (ref, _), c in zip(concepts, completed, strict=True)), reader


def read_all_medgen(
    links: Path,
    names: Path | None,
    definitions: Path | None,
    concept_files: ConceptFiles | None = None,
) -> MedgenInput:
    """Every concept of the links file, its links kept as Arrow columns (``--all-concepts``).

    One concept per CUI (its highest UID, as the per-concept path takes it); its
    name from NAMES.RRF when given, else from its first line in the links file.
    """
    table = read_links_table(links)
    by_cui: dict[str, tuple[int, str | None]] = {}
    for (uid, cui), name in sorted(table.names.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        by_cui[cui] = (uid, name)
    texts: dict[str, ConceptText] = {}
    if names is not None and definitions is not None and by_cui:
        texts = {t.cui: t for t in read_concept_texts(names, definitions, set(by_cui)).concepts}
    concepts = []
    for cui, (uid, name) in by_cui.items():
        ref = ConceptRef("cui", cui)
        found = ConceptLinks(uid=uid, cui=cui, name=name, pmids=())
        concepts.append((ref, _concept(ref, found, texts.get(cui))))
    pairs = table.links.select(["cui", "pmid"])
    distinct = pairs.group_by(["cui", "pmid"], use_threads=False).aggregate([])
    warnings = tuple(str(r) for r in table.rejects)
    completed, details = _details(concepts, concept_files, all_concepts=True)
    return MedgenInput(
        completed,
        (),
        {},
        link_table=distinct,
        warnings=warnings,
        details=details,
        sources=_sources(links, names, definitions, concept_files),
    )


def _concept(ref: ConceptRef, links: ConceptLinks | None, text: ConceptText | None) -> Concept:
    preferred = text.preferred if text else None
    name = (preferred.name if preferred else None) or (links.name if links else None) or ref.value
    definition = next((d for d in text.definitions if not d.suppressed), None) if text else None
    return Concept(
        uid=links.uid if links else None,
        cui=links.cui if links else ref.value,
        name=name,
        definition=definition.text if definition else None,
        definition_source=definition.source if definition else None,
        semantic_type=None,
        semantic_id=None,
        names=tuple(
            ConceptName(n.name, n.source, preferred=n is preferred)
            for n in (text.names if text else ())
        ),
        definitions=tuple(
            ConceptDefinition(d.text, d.source) for d in (text.definitions if text else ())
        ),
    )
