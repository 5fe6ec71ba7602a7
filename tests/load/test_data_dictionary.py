"""The README's data dictionary lists every table and column of the schemas, in order."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

from pipeline.load import schemas
from tests.conftest import ROOT

# The dictionary writes Arrow's scalar types by these names.
SCALARS = {
    "string": "string",
    "int64": "int64",
    "int32": "int32",
    "bool": "bool",
    "date32[day]": "date32",
}


def dictionary() -> dict[str, list[tuple[str, str]]]:
    """Per table section of the README's data dictionary: (column, type) rows, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split("\n## Data dictionary\n", 1)[1].split("\n## ", 1)[0]
    sections: dict[str, list[tuple[str, str]]] = {}
    current: str | None = None
    columns = False  # inside a table headed "| column | type | meaning |"
    for line in body.splitlines():
        heading = re.match(r"#{3,4} ([a-z_]+)\b", line)
        if heading:
            current = heading.group(1)
            sections[current] = []
            continue
        if line.startswith("###"):
            # Another kind of section (the concept detail tables, checked by their own test).
            current = None
            continue
        if not line.startswith("|"):
            columns = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "column" or not columns:
            columns = cells[0] == "column"
            continue
        if current is not None and not set(cells[0]) <= {"-"}:
            sections[current].extend((name.strip(), cells[1]) for name in cells[0].split(","))
    return {name: rows for name, rows in sections.items() if rows}


def expected() -> dict[str, pa.Schema]:
    tables = {name: schema for name, schema in schemas.TABLES.items()}
    tables["citations"] = schemas.CITATIONS  # the dictionary gives the partition column too
    # editors and investigators are said to have the authors' columns (a test checks it).
    return {n: s for n, s in tables.items() if n not in ("editors", "investigators")}


def test_the_dictionary_has_a_section_for_every_table_and_no_other():
    assert set(dictionary()) == set(expected())


@pytest.mark.parametrize("table", sorted(expected()))
def test_the_dictionary_lists_each_tables_columns_in_schema_order_with_their_types(table: str):
    rows = dictionary()[table]
    schema = expected()[table]
    assert [name for name, _ in rows] == schema.names
    for (name, written), field in zip(rows, schema, strict=True):
        if pa.types.is_list(field.type):
            assert written.startswith("list<"), name
        else:
            assert written == SCALARS[str(field.type)], name


def test_editors_and_investigators_sections_say_they_have_the_authors_columns():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "### editors" in text
    assert "### investigators" in text
    assert text.count("Same columns as `authors`") == 2
