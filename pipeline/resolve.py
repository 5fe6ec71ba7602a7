"""Concept references (CUI, MedGen UID, name) to MedGen concepts, in batches.

One concept costs two requests when looked up alone (esearch, then
esummary); a night of thousands would spend a third of its budget on that.
CUIs are therefore searched many at a time (``C1 OR C2 OR ...``) and every
UID found is summarized many at a time; each reference is then matched to its
summary by CUI or UID. A CUI the batch leaves unmatched (a search truncated
at its retmax, or simply no such concept) is looked up alone, so the answer,
and its error message, are those of a single lookup. Names are always looked
up alone: a name search matches words, and one name's hits must not be taken
for another's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pipeline.errors import ConceptError
from pipeline.extract.client import EutilsClient
from pipeline.models import Concept, ConceptRef
from pipeline.refs import search_phrase
from pipeline.transform.medgen import SummaryError, parse_medgen_summaries

# References per OR-search and UIDs per esummary. An OR of 100 CUIs keeps the
# GET URL near 1.2 KB; one search matches a handful of concepts per CUI at most.
BATCH = 100
# How many concepts one CUI may match in a batched search before the batch is
# treated as truncated (its unmatched CUIs are then looked up alone).
HITS_PER_CUI = 20

Resolution = Concept | ConceptError
T = TypeVar("T")


@dataclass
class _Pool:
    """Every summary read so far, by UID."""

    concepts: dict[int, Concept] = field(default_factory=dict)
    errors: dict[int, SummaryError] = field(default_factory=dict)

    def summarize(self, client: EutilsClient, uids: Sequence[int]) -> None:
        todo = [u for u in dict.fromkeys(uids) if u not in self.concepts and u not in self.errors]
        for batch in _batches(todo, BATCH):
            for summary in parse_medgen_summaries(client.summarize_medgen(batch)):
                if isinstance(summary, Concept) and summary.uid is not None:
                    self.concepts[summary.uid] = summary
                elif isinstance(summary, SummaryError) and summary.uid is not None:
                    self.errors[summary.uid] = summary


def resolve_concepts(
    client: EutilsClient, refs: Sequence[ConceptRef]
) -> dict[ConceptRef, Resolution]:
    """Each distinct reference's concept, or the ConceptError saying why it has none."""
    unique = list(dict.fromkeys(refs))
    cuis = [r for r in unique if r.kind == "cui"]
    uid_refs = [r for r in unique if r.kind == "uid"]
    pool = _Pool()
    found: list[int] = []
    for batch in _batches(cuis, BATCH):
        found.extend(_search_cuis(client, batch))
    pool.summarize(client, found + [int(r.value) for r in uid_refs])
    by_cui: dict[str, list[Concept]] = {}
    for concept in pool.concepts.values():
        by_cui.setdefault(concept.cui.upper(), []).append(concept)
    out: dict[ConceptRef, Resolution] = {}
    for ref in unique:
        if ref.kind == "uid":
            out[ref] = _by_uid(pool, ref)
        elif ref.kind == "cui" and len(by_cui.get(ref.value, ())) == 1:
            out[ref] = by_cui[ref.value][0]
        else:  # a name, or a CUI the batch did not settle: alone, as a single lookup would
            out[ref] = _alone(client, ref)
    return out


def _search_cuis(client: EutilsClient, batch: Sequence[ConceptRef]) -> list[int]:
    if len(batch) == 1:
        return list(client.search_medgen(batch[0].value).ids)
    term = " OR ".join(r.value for r in batch)
    return list(client.search_medgen(term, retmax=HITS_PER_CUI * len(batch)).ids)


def _by_uid(pool: _Pool, ref: ConceptRef) -> Resolution:
    uid = int(ref.value)
    if uid in pool.concepts:
        return pool.concepts[uid]
    error = pool.errors.get(uid)
    detail = f"UID {uid}: {error.message}" if error else "no summary matches"
    return ConceptError(f"MedGen could not summarize uid {ref.value!r} ({detail})")


def _alone(client: EutilsClient, ref: ConceptRef) -> Resolution:
    try:
        return resolve_concept(client, ref)
    except ConceptError as exc:
        return exc


def resolve_concept(client: EutilsClient, ref: ConceptRef) -> Concept:
    """One reference: a UID is summarized directly; a CUI or name is searched for first."""
    if ref.kind == "uid":
        uids: Sequence[int] = (int(ref.value),)
    else:
        term = ref.value if ref.kind == "cui" else search_phrase(ref.value)
        uids = client.search_medgen(term).ids
        if not uids:
            raise ConceptError(f"no MedGen concept matches {ref.kind} {ref.value!r}")
    summaries = parse_medgen_summaries(client.summarize_medgen(uids))
    concepts = [s for s in summaries if isinstance(s, Concept)]
    match = [c for c in concepts if _matches(c, ref)]
    if len(match) == 1 or (len(concepts) == 1 and ref.kind == "name"):
        return (match or concepts)[0]
    if len(match) > 1:
        names = ", ".join(f"{c.cui} {c.name!r}" for c in match)
        raise ConceptError(f"{ref.value!r} is ambiguous in MedGen: {names}")
    errors = [f"UID {s.uid}: {s.message}" for s in summaries if isinstance(s, SummaryError)]
    detail = "; ".join(errors) or "no summary matches"
    raise ConceptError(f"MedGen could not summarize {ref.kind} {ref.value!r} ({detail})")


def _matches(concept: Concept, ref: ConceptRef) -> bool:
    if ref.kind == "uid":
        return str(concept.uid) == ref.value
    if ref.kind == "cui":
        return concept.cui.upper() == ref.value
    return concept.name.casefold() == ref.value.casefold()


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
