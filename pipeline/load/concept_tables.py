"""The concept detail tables: codes, genes, inheritance, features, relations.

One row per item, as the source lists them: ``build`` writes them from the
concepts' summaries (:func:`detail_tables`), ``bulk`` from MedGen's FTP files
(:mod:`pipeline.bulk.concept_files`), both with these schemas. Rows are ordered
by concept (CUI), then in the order of the summary or the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import attrgetter

import pyarrow as pa

from pipeline.models import Concept

_str = pa.string()

CONCEPT_CODES = pa.schema(
    [
        pa.field("cui", _str, nullable=False),
        pa.field("source", _str),
        pa.field("code", _str),
        pa.field("source_id", _str),
        pa.field("term_type", _str),
        pa.field("name", _str, nullable=False),
        pa.field("preferred", pa.bool_(), nullable=False),
    ]
)

CONCEPT_GENES = pa.schema(
    [
        pa.field("cui", _str, nullable=False),
        pa.field("gene_id", pa.int64(), nullable=False),
        pa.field("symbol", _str),
        pa.field("chromosome", _str),
        pa.field("cytogenetic", _str),
    ]
)

CONCEPT_INHERITANCE = pa.schema(
    [
        pa.field("cui", _str, nullable=False),
        pa.field("mode_cui", _str, nullable=False),
        pa.field("mode_name", _str),
    ]
)

CONCEPT_FEATURES = pa.schema(
    [
        pa.field("cui", _str, nullable=False),
        pa.field("feature_cui", _str, nullable=False),
        pa.field("hpo_id", _str),
        pa.field("name", _str),
        pa.field("semantic_type", _str),
    ]
)

CONCEPT_RELATIONS = pa.schema(
    [
        pa.field("cui", _str, nullable=False),
        pa.field("relation", _str, nullable=False),
        pa.field("related_cui", _str, nullable=False),
        pa.field("source", _str),
    ]
)

# Table name -> (schema, the Concept field holding its items), in snapshot order.
DETAIL_TABLES: dict[str, tuple[pa.Schema, str]] = {
    "concept_codes": (CONCEPT_CODES, "codes"),
    "concept_genes": (CONCEPT_GENES, "genes"),
    "concept_inheritance": (CONCEPT_INHERITANCE, "inheritance"),
    "concept_features": (CONCEPT_FEATURES, "features"),
    "concept_relations": (CONCEPT_RELATIONS, "relations"),
}


def detail_path(name: str) -> str:
    return f"{name}/part-0.parquet"


def detail_tables(concepts: Iterable[Concept]) -> dict[str, pa.Table]:
    """Every detail table of these concepts (``build``): path -> table."""
    ordered = sorted(concepts, key=lambda c: (c.cui, c.uid or 0))
    return {
        detail_path(name): _items_table(schema, ordered, field)
        for name, (schema, field) in DETAIL_TABLES.items()
    }


def _items_table(schema: pa.Schema, concepts: Sequence[Concept], field: str) -> pa.Table:
    pairs = [(c.cui, item) for c in concepts for item in getattr(c, field)]
    items = [item for _, item in pairs]
    columns = {
        f.name: [cui for cui, _ in pairs]
        if f.name == "cui"
        else list(map(attrgetter(f.name), items))
        for f in schema
    }
    return pa.table({f.name: pa.array(columns[f.name], f.type) for f in schema}, schema=schema)
