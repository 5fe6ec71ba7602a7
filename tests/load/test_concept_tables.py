"""Concept detail tables: schemas, row order, and the README's data dictionary."""

from __future__ import annotations

import dataclasses
import re

from pipeline.load import schemas
from pipeline.load.concept_tables import DETAIL_TABLES, detail_tables
from pipeline.models import Concept, ConceptFeature, ConceptGene
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text("utf-8")


def concept(cui: str) -> Concept:
    return Concept(None, cui, cui, None, None, None, None)


def documented_columns(section: str) -> list[str]:
    """The column names of the first Markdown table after ``section`` in the README."""
    start = README.index(section)
    table = re.search(
        r"\| column \| type \| meaning \|\n\|---\|---\|---\|\n((?:\|.*\n)+)", README[start:]
    )
    assert table is not None, section
    return [line.split("|")[1].strip() for line in table.group(1).splitlines()]


def test_every_detail_table_and_column_is_in_the_data_dictionary_in_order():
    for name, (schema, _) in DETAIL_TABLES.items():
        assert documented_columns(f"`{name}`:") == schema.names, name


def test_the_concepts_new_columns_are_in_the_data_dictionary():
    documented = documented_columns("### concepts (one row per concept)")
    for column in ("omim", "chromosome", "cytogenetic", "semantic_types", "mesh_ids"):
        assert column in documented
    assert documented == schemas.CONCEPTS.names


def test_items_are_ordered_by_concept_then_as_listed():
    features = (ConceptFeature("C9", None, "z", None), ConceptFeature("C8", None, "y", None))
    a = dataclasses.replace(concept("C2"), features=features)
    b = dataclasses.replace(concept("C1"), genes=(ConceptGene(7, "G", None, None),))
    built = detail_tables([a, b])
    written = built["concept_features/part-0.parquet"]
    assert written["feature_cui"].to_pylist() == ["C9", "C8"]
    assert built["concept_genes/part-0.parquet"].to_pylist() == [
        {"cui": "C1", "gene_id": 7, "symbol": "G", "chromosome": None, "cytogenetic": None}
    ]
    for name, (schema, _) in DETAIL_TABLES.items():
        assert built[f"{name}/part-0.parquet"].schema == schema
