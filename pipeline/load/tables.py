"""Typed records → Arrow tables, column by column, in a deterministic row order.

Columns are built as Python lists and handed to Arrow with the explicit
schema (building columns is much cheaper than converting row dicts). Nested
columns (lists, structs) are assembled from flat child arrays and offsets:
letting Arrow convert lists of dicts costs as much as parsing the XML.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Sequence
from itertools import accumulate, chain
from operator import attrgetter, itemgetter
from typing import Any, TypeAlias, TypeVar

import numpy as np
import pyarrow as pa

from pipeline.load import journals, schemas
from pipeline.load.record_hash import COLUMN, record_sha256
from pipeline.models import Article, Author, CitationRow, Concept, Reject

R = TypeVar("R")


Getter: TypeAlias = Callable[[Any], Any] | str | list[Any] | pa.Array


def _table(schema: pa.Schema, rows: Sequence[R], getters: dict[str, Getter]) -> pa.Table:
    """Columns by getter: a function, an attribute path ("journal.nlm_id") read with
    operator.attrgetter (it runs in C over millions of rows), the column's values, or
    the column's Arrow array, already built."""
    missing = set(schema.names) ^ set(getters)
    if missing:
        raise ValueError(f"getters and schema disagree on {sorted(missing)}")
    arrays = []
    for f in schema:
        getter = getters[f.name]
        if isinstance(getter, pa.Array):
            arrays.append(getter)
            continue
        if isinstance(getter, list):
            values = getter
        else:
            values = list(map(attrgetter(getter) if isinstance(getter, str) else getter, rows))
        arrays.append(_array(values, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _array(values: list[Any], type_: pa.DataType) -> pa.Array:
    """One column; list values are sequences (never None), struct values are
    records or dicts whose attributes/keys are the struct's field names."""
    if pa.types.is_list(type_):
        return _list_array(values, list(chain.from_iterable(values)), type_)
    if pa.types.is_struct(type_):
        reader = itemgetter if values and isinstance(values[0], dict) else attrgetter
        children = [_array(list(map(reader(f.name), values)), f.type) for f in type_]
        return pa.StructArray.from_arrays(children, fields=list(type_))
    return pa.array(values, type=type_)


def _list_array(groups: list[Any], flat: list[Any], type_: pa.DataType) -> pa.Array:
    """A list column from each row's sequence (``groups``) and their items in order."""
    # Offsets built in C (accumulate), not by a Python loop over every row.
    offsets = [0, *accumulate(map(len, groups))]
    child = _array(flat, type_.value_type)
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), child, type=type_)


def _members_column(groups: list[Any], field: str, type_: pa.DataType) -> pa.Array:
    """A list column of one attribute of each row's members (an author's affiliations'
    texts, say): read over all members at once, with no Python call per row."""
    return _list_array(groups, list(map(attrgetter(field), chain.from_iterable(groups))), type_)


def concepts_table(concepts: Iterable[Concept], db_build: str | None) -> pa.Table:
    rows = sorted(concepts, key=lambda c: (c.cui, c.uid or 0))
    return _table(
        schemas.CONCEPTS,
        rows,
        {
            "cui": "cui",
            "uid": "uid",
            "name": "name",
            "definition": "definition",
            "definition_source": "definition_source",
            "semantic_type": "semantic_type",
            "semantic_id": "semantic_id",
            "synonyms": lambda c: list(c.synonyms),
            "names": lambda c: [
                {"name": n.name, "source": n.source, "preferred": n.preferred} for n in c.names
            ],
            "db_build": lambda c: db_build,
            "omim": lambda c: list(c.omim),
            "chromosome": "chromosome",
            "cytogenetic": "cytogenetic",
            "semantic_types": lambda c: list(c.semantic_types),
            "mesh_ids": lambda c: list(c.mesh_ids),
        },
    )


def citations_table(rows: Sequence[CitationRow]) -> pa.Table:
    """One category's partition file, ordered by concept then rank."""
    ordered = sorted(rows, key=lambda r: (r.cui, r.rank))
    getters: dict[str, Getter] = {f: _attr(f) for f in schemas.CITATIONS_FILE.names}
    getters["evidence"] = lambda r: list(r.evidence)
    return _table(schemas.CITATIONS_FILE, ordered, getters)


def _attr(name: str) -> Callable[[Any], Any]:
    return lambda r: getattr(r, name)


def articles_table(articles: Iterable[Article], authors: pa.Array | None = None) -> pa.Table:
    """One row per PMID; ``authors``: the column, already built (see article_tables)."""
    rows = sorted(articles, key=lambda a: a.pmid)
    table = _table(
        schemas.ARTICLE_VALUES,
        rows,
        {
            "pmid": "pmid",
            "pmid_version": "pmid_version",
            "status": "status",
            "record_kind": "record_kind",
            "title": "title",
            "vernacular_title": "vernacular_title",
            "journal": "journal.medline_ta",
            "journal_nlm_id": "journal.nlm_id",
            "journal_iso_abbreviation": "journal.iso_abbreviation",
            "volume": "volume",
            "issue": "issue",
            "pages": "pages",
            "pub_date_raw": "pub_date.raw",
            "pub_year": "pub_date.year",
            "pub_date_display": "pub_date.display",
            "epub_date": "epub_date",
            "doi": "doi",
            "doi_display": "doi_display",
            "doi_source": "doi_source",
            "pmcid": "pmcid",
            # Tuples serve as list values as they are (see _array).
            "publication_types": "publication_types",
            "languages": "languages",
            "author_list_complete": "author_list_complete",
            # Author records carry every field of the struct (display is a property).
            "authors": "authors" if authors is None else authors,
            "abstract": "abstract",
            "pub_date_start": "pub_date.start",
            "pub_date_end": "pub_date.end",
            "pub_date_precision": "pub_date.precision",
            "doi_alternate": "doi_alternate",
            "doi_conflict": "doi_conflict",
            "doi_problem": "doi_problem",
            "book_title": "book_title",
            "book_accession": "book_accession",
            "medline_status": "status",
            "publication_status": "publication_status",
            "indexing_method": "indexing_method",
            "citation_subsets": "citation_subsets",
            "pub_model": "pub_model",
            "coi_statement": "coi_statement",
            "date_completed": "date_completed",
            "date_revised": "date_revised",
            # The article's own ISSNs (the journals table keeps one record's per journal).
            "issn_print": "journal.issn_print",
            "issn_electronic": "journal.issn_electronic",
            "grant_list_complete": "grant_list_complete",
            "publication_type_uis": "publication_type_uis",
            "retracted": "retracted",
            "retraction_pmids": "retraction_pmids",
            "erratum_pmids": "erratum_pmids",
            "expression_of_concern": "expression_of_concern",
            "journal_title": "journal.title",
            "issn_linking": "journal.issn_linking",
            "journal_country": "journal.country",
        },
    )
    return table.append_column(schemas.ARTICLES.field(COLUMN), record_sha256(table))


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
    ordered = sorted(articles, key=lambda a: a.pmid)
    rows = [x for a in ordered for x in people(a)]
    return _people(schema, ordered, rows, people)


def _people(
    schema: pa.Schema,
    ordered: Sequence[Article],
    rows: Sequence[Author],
    people: Callable[[Article], Sequence[Author]],
) -> pa.Table:
    affiliations = [x.affiliations for x in rows]
    return _table(
        schema,
        rows,
        {
            "pmid": [a.pmid for a in ordered for _ in people(a)],
            "position": "position",
            "last_name": "last_name",
            "fore_name": "fore_name",
            "initials": "initials",
            "suffix": "suffix",
            "collective_name": "collective_name",
            "orcid": "orcid",
            "affiliations": _members_column(
                affiliations, "text", schema.field("affiliations").type
            ),
            "valid": "valid",
            "equal_contrib": "equal_contrib",
            "affiliation_identifiers": _members_column(
                affiliations, "identifiers", schema.field("affiliation_identifiers").type
            ),
            "affiliation_identifier_sources": _members_column(
                affiliations,
                "identifier_sources",
                schema.field("affiliation_identifier_sources").type,
            ),
            "orcid_source": "orcid_source",
        },
    )


def authors_column(ordered: Sequence[Article], authors: pa.Table) -> pa.Array:
    """``articles.authors`` from the authors table of the same articles, in the same order.

    The struct's children are the authors table's columns (only ``display`` is
    new): building them once serves both tables.
    """
    rows = [x for a in ordered for x in a.authors]
    display = pa.array([x.display for x in rows], pa.string())
    struct_type = schemas.AUTHOR_STRUCT
    children = [
        display if f.name == "display" else authors.column(f.name).combine_chunks()
        for f in struct_type
    ]
    values = pa.StructArray.from_arrays(children, fields=list(struct_type))
    offsets = pa.array([0, *accumulate(len(a.authors) for a in ordered)], pa.int32())
    return pa.ListArray.from_arrays(offsets, values, type=schemas.ARTICLES.field("authors").type)


def journals_table(articles: Iterable[Article]) -> pa.Table:
    """One row per NLM Unique ID: the rule of ``journals.unique_journals``."""
    rows = journal_rows_table(sorted(articles, key=lambda a: a.pmid))
    return pa.concat_tables([*journals.unique_journals([rows]), schemas.JOURNALS.empty_table()])


def journal_rows_table(ordered: Sequence[Article]) -> pa.Table:
    """Every article's journal with its PMID and version (JOURNAL_ROWS): what the bulk
    path stages, so that the journals table can be chosen among surviving records."""
    rows = [a for a in ordered if a.journal.nlm_id is not None]
    getters: dict[str, Getter] = {f: f"journal.{f}" for f in schemas.JOURNALS.names}
    getters.update(pmid="pmid", pmid_version="pmid_version")
    return _table(JOURNAL_ROWS, rows, getters)


JOURNAL_ROWS = pa.schema(
    [
        *schemas.JOURNALS,
        pa.field("pmid", pa.int64(), nullable=False),
        pa.field("pmid_version", pa.int32(), nullable=False),
    ]
)


def _items_table(
    schema: pa.Schema, ordered: Sequence[Article], items: Callable[[Article], Sequence[Any]]
) -> pa.Table:
    """One row per item of each article's list (``items``), PMID first, then the
    item's attributes named by the schema's other columns."""
    groups = list(map(items, ordered))
    rows = list(chain.from_iterable(groups))
    pmids = np.repeat(
        np.fromiter(map(attrgetter("pmid"), ordered), np.int64, len(ordered)),
        np.fromiter(map(len, groups), np.int64, len(groups)),
    )
    getters: dict[str, Getter] = {f: f for f in schema.names if f != "pmid"}
    getters["pmid"] = pa.array(pmids, pa.int64())
    return _table(schema, rows, getters)


# Each list table and the Article field holding its items.
LIST_TABLES: dict[str, str] = {
    "mesh_headings": "mesh_headings",
    "supplementary_concepts": "supplementary_concepts",
    "keywords": "keywords",
    "chemicals": "chemicals",
    "grants": "grants",
    "comments_corrections": "comments_corrections",
    "article_references": "references",
    "history": "history",
    "article_ids": "article_ids",
    "data_banks": "data_banks",
}


def list_table(name: str, ordered: Sequence[Article]) -> pa.Table:
    """The named list table (LIST_TABLES) of articles already ordered by PMID."""
    return _items_table(schemas.TABLES[name], ordered, attrgetter(LIST_TABLES[name]))


def article_tables(
    articles: Sequence[Article],
    rejects: Sequence[Reject],
    selected: Container[str] | None = None,
) -> dict[str, pa.Table]:
    """The tables built from the fetched PubMed records, by path in the snapshot:
    those ``selected`` (None: all) and always rejects."""
    ordered = sorted(articles, key=lambda a: a.pmid)
    wanted = schemas.SELECTABLE if selected is None else selected
    out: dict[str, pa.Table] = {}
    if "articles" in wanted or "authors" in wanted:
        authors = authors_table(ordered)
        if "articles" in wanted:
            out["articles"] = articles_table(ordered, authors_column(ordered, authors))
        if "authors" in wanted:
            out["authors"] = authors
    if "editors" in wanted:
        out["editors"] = editors_table(ordered)
    if "investigators" in wanted:
        out["investigators"] = investigators_table(ordered)
    if "journals" in wanted:
        out["journals"] = journals_table(ordered)
    for name in LIST_TABLES:
        if name in wanted:
            out[name] = list_table(name, ordered)
    out["rejects"] = rejects_table(rejects)
    return {f"{name}/part-0.parquet": table for name, table in out.items()}


def rejects_table(rejects: Iterable[Reject]) -> pa.Table:
    rows = sorted(rejects, key=lambda r: (r.pmid or 0, r.fragment_sha256))
    return _table(
        schemas.REJECTS,
        rows,
        {
            "pmid": "pmid",
            "reason": "reason",
            "fragment_sha256": "fragment_sha256",
        },
    )
