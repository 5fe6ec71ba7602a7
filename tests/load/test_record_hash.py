"""articles.record_sha256: the documented encoding, whatever the chunks or the path."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.bulk.parse import parse_file
from pipeline.load import schemas, tables
from pipeline.load.record_hash import record_sha256
from pipeline.transform.pubmed import parse_efetch
from tests.conftest import DEMO_DATASET

PEOPLE = pa.list_(pa.struct([pa.field("name", pa.string()), pa.field("n", pa.int32())]))
ROWS = pa.schema(
    [
        pa.field("pmid", pa.int64()),
        pa.field("title", pa.string()),
        pa.field("day", pa.date32()),
        pa.field("flag", pa.bool_()),
        pa.field("people", PEOPLE),
        pa.field("record_sha256", pa.string()),
    ]
)
VALUES: list[dict[str, object]] = [
    {
        "pmid": 1,
        "title": 'Größe "quoted" \\ back\nslash \x01 ≥ 😀',
        "day": date(1998, 4, 4),
        "flag": False,
        "people": [{"name": None, "n": 2}, {"name": "Ünal", "n": 1}],
    },
    {"pmid": 2, "title": None, "day": None, "flag": True, "people": []},
]


def reference(row: dict[str, object]) -> str:
    """The README's definition, by the standard library."""
    values = {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}
    kept = {k: v for k, v in values.items() if v is not None}
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_record_sha256_is_the_sha256_of_the_rows_sorted_json_without_nulls():
    table = pa.Table.from_pylist([{**v, "record_sha256": ""} for v in VALUES], schema=ROWS)
    assert record_sha256(table).to_pylist() == [reference(v) for v in VALUES]


def test_record_sha256_does_not_depend_on_how_the_rows_are_chunked():
    whole = pa.Table.from_pylist(VALUES, schema=pa.schema(list(ROWS)[:-1]))
    chunked = pa.concat_tables([whole.slice(0, 1), whole.slice(1)])
    assert chunked.column("pmid").num_chunks == 2
    assert record_sha256(chunked).to_pylist() == record_sha256(whole).to_pylist()


def test_a_null_column_added_later_leaves_the_digest_as_it_was():
    narrow = pa.Table.from_pylist(VALUES, schema=pa.schema(list(ROWS)[:-1]))
    wider = narrow.append_column("added_later", pa.nulls(2, pa.string()))
    assert record_sha256(wider).to_pylist() == record_sha256(narrow).to_pylist()


def test_the_articles_table_ends_with_a_digest_of_each_rows_other_columns():
    batch = parse_efetch((DEMO_DATASET / "pubmed.xml").read_bytes())
    table = tables.article_tables(batch.articles, [], ("articles",))["articles/part-0.parquet"]
    assert table.schema == schemas.ARTICLES
    assert table.schema.names[-1] == "record_sha256"
    values = table.drop_columns(["record_sha256"]).to_pylist()
    assert table["record_sha256"].to_pylist() == [reference(v) for v in values]
    assert len(set(table["record_sha256"].to_pylist())) == table.num_rows


def test_the_bulk_path_gives_the_same_digests_as_the_eutils_path_for_the_same_xml(tmp_path):
    xml = (DEMO_DATASET / "pubmed.xml").read_bytes()
    path = tmp_path / "pubmed99n0001.xml"
    path.write_bytes(xml)
    batch = parse_efetch(xml)
    keep = frozenset(a.pmid for a in batch.articles)
    parsed = parse_file(str(path), 0, str(tmp_path / "w"), keep=keep)
    bulk = pq.read_table(parsed.parts["articles"]).sort_by("pmid")
    eutils = tables.article_tables(batch.articles, [], ("articles",))["articles/part-0.parquet"]
    assert bulk["pmid"].to_pylist() == eutils["pmid"].to_pylist()
    assert bulk["record_sha256"].to_pylist() == eutils["record_sha256"].to_pylist()
