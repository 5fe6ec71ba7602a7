"""Typed records → Arrow tables, column by column, in a deterministic row order.

Columns are built as Python lists and handed to Arrow with the explicit
schema (building columns is much cheaper than converting row dicts). Nested
columns (lists, structs) are assembled from flat child arrays and offsets:
letting Arrow convert lists of dicts costs as much as parsing the XML.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import pyarrow as pa

from pipeline.load import schemas
from pipeline.models import Article, Author, Concept, Journal, Reject
from pipeline.transform.citations import CitationRow

R = TypeVar("R")


def _table(
    schema: pa.Schema, rows: Sequence[R], getters: dict[str, Callable[[R], Any]]
) -> pa.Table:
    missing = set(schema.names) ^ set(getters)
    if missing:
        raise ValueError(f"getters and schema disagree on {sorted(missing)}")
    arrays = [_array([getters[f.name](r) for r in rows], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _array(values: list[Any], type_: pa.DataType) -> pa.Array:
    """One column; list values are sequences (never None), struct values are
    records or dicts whose attributes/keys are the struct's field names."""
    if pa.types.is_list(type_):
        offsets, flat = [0], []
        for value in values:
            flat.extend(value)
            offsets.append(len(flat))
        child = _array(flat, type_.value_type)
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), child, type=type_)
    if pa.types.is_struct(type_):
        children = [_array([_field(v, f.name) for v in values], f.type) for f in type_]
        return pa.StructArray.from_arrays(children, fields=list(type_))
    return pa.array(values, type=type_)


def _field(value: Any, name: str) -> Any:
    return value[name] if isinstance(value, dict) else getattr(value, name)


def concepts_table(concepts: Iterable[Concept], db_build: str | None) -> pa.Table:
    rows = sorted(concepts, key=lambda c: (c.cui, c.uid))
    return _table(
        schemas.CONCEPTS,
        rows,
        {
            "cui": lambda c: c.cui,
            "uid": lambda c: c.uid,
            "name": lambda c: c.name,
            "definition": lambda c: c.definition,
            "definition_source": lambda c: c.definition_source,
            "semantic_type": lambda c: c.semantic_type,
            "semantic_id": lambda c: c.semantic_id,
            "synonyms": lambda c: list(c.synonyms),
            "names": lambda c: [
                {"name": n.name, "source": n.source, "preferred": n.preferred} for n in c.names
            ],
            "db_build": lambda c: db_build,
        },
    )


def citations_table(rows: Sequence[CitationRow]) -> pa.Table:
    """One category's partition file, ordered by concept then rank."""
    ordered = sorted(rows, key=lambda r: (r.cui, r.rank))
    fields = schemas.CITATIONS_FILE.names
    return _table(schemas.CITATIONS_FILE, ordered, {f: _attr(f) for f in fields})


def _attr(name: str) -> Callable[[Any], Any]:
    return lambda r: getattr(r, name)


def articles_table(articles: Iterable[Article]) -> pa.Table:
    rows = sorted(articles, key=lambda a: a.pmid)
    return _table(
        schemas.ARTICLES,
        rows,
        {
            "pmid": lambda a: a.pmid,
            "pmid_version": lambda a: a.pmid_version,
            "status": lambda a: a.status,
            "record_kind": lambda a: a.record_kind,
            "title": lambda a: a.title,
            "vernacular_title": lambda a: a.vernacular_title,
            "journal": lambda a: a.journal.medline_ta,
            "journal_nlm_id": lambda a: a.journal.nlm_id,
            "journal_iso_abbreviation": lambda a: a.journal.iso_abbreviation,
            "volume": lambda a: a.volume,
            "issue": lambda a: a.issue,
            "pages": lambda a: a.pages,
            "pub_date_raw": lambda a: a.pub_date.raw,
            "pub_year": lambda a: a.pub_date.year,
            "pub_date_display": lambda a: a.pub_date.display,
            "epub_date": lambda a: a.epub_date,
            "doi": lambda a: a.doi,
            "doi_display": lambda a: a.doi_display,
            "doi_source": lambda a: a.doi_source,
            "pmcid": lambda a: a.pmcid,
            "publication_types": lambda a: list(a.publication_types),
            "languages": lambda a: list(a.languages),
            "author_list_complete": lambda a: a.author_list_complete,
            # Author records carry every field of the struct (display is a property).
            "authors": lambda a: a.authors,
            "abstract": lambda a: a.abstract,
            "pub_date_start": lambda a: a.pub_date.start,
            "pub_date_end": lambda a: a.pub_date.end,
            "pub_date_precision": lambda a: a.pub_date.precision,
            "doi_alternate": lambda a: a.doi_alternate,
            "doi_conflict": lambda a: a.doi_conflict,
            "doi_problem": lambda a: a.doi_problem,
            "book_title": lambda a: a.book_title,
            "book_accession": lambda a: a.book_accession,
        },
    )


def authors_table(articles: Iterable[Article]) -> pa.Table:
    """One row per PMID and author position."""
    return people_table(schemas.AUTHORS, articles, lambda a: a.authors)


def editors_table(articles: Iterable[Article]) -> pa.Table:
    """One row per PMID and editor position (``AuthorList[@Type="editors"]``)."""
    return people_table(schemas.EDITORS, articles, lambda a: a.editors)


def investigators_table(articles: Iterable[Article]) -> pa.Table:
    """One row per PMID and investigator position (``InvestigatorList``)."""
    return people_table(schemas.INVESTIGATORS, articles, lambda a: a.investigators)


def people_table(
    schema: pa.Schema, articles: Iterable[Article], people: Callable[[Article], Sequence[Author]]
) -> pa.Table:
    rows = [(a.pmid, x) for a in sorted(articles, key=lambda a: a.pmid) for x in people(a)]
    return _table(
        schema,
        rows,
        {
            "pmid": lambda r: r[0],
            "position": lambda r: r[1].position,
            "last_name": lambda r: r[1].last_name,
            "fore_name": lambda r: r[1].fore_name,
            "initials": lambda r: r[1].initials,
            "suffix": lambda r: r[1].suffix,
            "collective_name": lambda r: r[1].collective_name,
            "orcid": lambda r: r[1].orcid,
            "affiliations": lambda r: [f.text for f in r[1].affiliations],
            "valid": lambda r: r[1].valid,
            "equal_contrib": lambda r: r[1].equal_contrib,
            "affiliation_identifiers": lambda r: [list(f.identifiers) for f in r[1].affiliations],
            "affiliation_identifier_sources": lambda r: [
                list(f.identifier_sources) for f in r[1].affiliations
            ],
            "orcid_source": lambda r: r[1].orcid_source,
        },
    )


def journals_table(articles: Iterable[Article]) -> pa.Table:
    """One row per NLM Unique ID; the lowest PMID's record of it wins (deterministic)."""
    by_id: dict[str, Journal] = {}
    for a in sorted(articles, key=lambda a: a.pmid):
        if a.journal.nlm_id is not None:
            by_id.setdefault(a.journal.nlm_id, a.journal)
    rows = [by_id[k] for k in sorted(by_id)]
    return _table(schemas.JOURNALS, rows, {f: _attr(f) for f in schemas.JOURNALS.names})


def article_tables(articles: Sequence[Article], rejects: Sequence[Reject]) -> dict[str, pa.Table]:
    """Every table built from the fetched PubMed records, by path in the snapshot."""
    return {
        "articles/part-0.parquet": articles_table(articles),
        "authors/part-0.parquet": authors_table(articles),
        "editors/part-0.parquet": editors_table(articles),
        "investigators/part-0.parquet": investigators_table(articles),
        "journals/part-0.parquet": journals_table(articles),
        "rejects/part-0.parquet": rejects_table(rejects),
    }


def rejects_table(rejects: Iterable[Reject]) -> pa.Table:
    rows = sorted(rejects, key=lambda r: (r.pmid or 0, r.fragment_sha256))
    return _table(
        schemas.REJECTS,
        rows,
        {
            "pmid": lambda r: r.pmid,
            "reason": lambda r: r.reason,
            "fragment_sha256": lambda r: r.fragment_sha256,
        },
    )
