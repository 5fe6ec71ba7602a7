"""The efetch path and the bulk path give equal rows in every table, for the same XML.

Each sample file (tests/conftest.py lists where they hold PubMed answers) and each
hand-written fixture is read twice: as an efetch answer (parse_efetch, then the
tables build writes) and as a bulk file (parse_file's Parquet parts, then the
update merge and the journals' choice, as bulk publishes them).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.bulk.merge import choose, surviving_rows
from pipeline.bulk.parse import CITE_FIELDS, parse_file
from pipeline.load import schemas, tables
from pipeline.load.journals import unique_journals
from pipeline.transform.citations import citation_row
from pipeline.transform.pubmed import parse_efetch
from tests.conftest import DEMO_DATASET, PUBMED_SAMPLE_GLOBS, ROOT, SAMPLES

FIXTURES = sorted((ROOT / "tests" / "transform" / "fixtures").glob("*.xml"))
LOCAL = [*FIXTURES, DEMO_DATASET / "pubmed.xml"]


def _xml(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def _sample_files() -> list[Path]:
    if not SAMPLES.is_dir():
        return []
    found = {p for g in PUBMED_SAMPLE_GLOBS for p in SAMPLES.glob(g)}
    return sorted(p for p in found if b"<PubmedArticleSet" in _xml(p)[:4096])


def _by_pmid(table: pa.Table) -> pa.Table:
    # The bulk path writes a file's records a chunk at a time, in document order;
    # a stable sort by PMID keeps each record's own rows in their order.
    return table.take(pa.compute.sort_indices(table, [("pmid", "ascending")]))


def bulk_tables(path: Path, work: Path) -> tuple[dict[str, pa.Table], pa.Table]:
    parse = parse_file(str(path), 0, str(work))
    winners = choose([parse])
    out: dict[str, pa.Table] = {}
    for name in (*schemas.SELECTABLE, "rejects"):
        if name == "citations":
            continue
        part = pq.read_table(parse.parts[name])
        rows = surviving_rows(name, part, 0, winners)
        if name == "journals":
            out[name] = pa.concat_tables([*unique_journals([rows]), schemas.JOURNALS.empty_table()])
        else:
            out[name] = rows
    fields = surviving_rows(CITE_FIELDS, pq.read_table(parse.parts[CITE_FIELDS]), 0, winners)
    return out, fields


def efetch_tables(path: Path) -> tuple[dict[str, pa.Table], list[dict[str, Any]]]:
    batch = parse_efetch(_xml(path))
    built = tables.article_tables(batch.articles, batch.rejects)
    rows = [citation_row("", "", 0, a) for a in batch.articles]
    return {p.split("/")[0]: t for p, t in built.items()}, [
        {
            f: getattr(r, f)
            for f in schemas.CITATIONS_FILE.names
            if f not in ("cui", "rank", "evidence")
        }
        for r in rows
    ]


def assert_same_rows(path: Path, work: Path) -> None:
    bulk, fields = bulk_tables(path, work)
    efetch, citations = efetch_tables(path)
    assert set(bulk) == set(efetch)
    for name, table in efetch.items():
        got = bulk[name]
        assert got.schema == table.schema, name
        if name in ("journals", "rejects"):
            assert got.to_pylist() == table.to_pylist(), name
        else:
            assert _by_pmid(got).to_pylist() == _by_pmid(table).to_pylist(), name
    cite = fields.select([k for k in citations[0]] if citations else ["pmid"])
    assert sorted(cite.to_pylist(), key=lambda r: r["pmid"]) == sorted(
        citations, key=lambda r: r["pmid"]
    )


@pytest.mark.parametrize("path", LOCAL, ids=lambda p: p.name)
def test_both_paths_give_equal_rows_for_the_fixtures_and_the_demo(path: Path, tmp_path):
    assert_same_rows(path, tmp_path)


@pytest.mark.samples
def test_both_paths_give_equal_rows_for_every_sample(samples, tmp_path):
    files = _sample_files()
    assert files
    lists = 0
    for i, path in enumerate(files):
        assert_same_rows(path, tmp_path / str(i))
        lists += sum(len(a.mesh_headings) for a in parse_efetch(_xml(path)).articles)
    assert lists > 0  # the samples do carry the lists both paths now read


def journals_in_order(paths: list[Path], work: Path) -> pa.Table:
    """The bulk journals table when ``paths`` are the files in this order (file numbers)."""
    parses = [parse_file(str(p), i, str(work / str(i))) for i, p in enumerate(paths)]
    winners = choose(parses)
    parts = (
        surviving_rows("journals", pq.read_table(p.parts["journals"]), p.index, winners)
        for p in parses
    )
    return pa.concat_tables([*unique_journals(parts), schemas.JOURNALS.empty_table()])


@pytest.mark.samples
def test_the_journals_table_is_the_same_whatever_the_order_of_the_sample_files(samples, tmp_path):
    # Files that share a PMID are updates of each other, where file order rightly
    # decides which record survives: keep the files whose records are all distinct.
    files: list[Path] = []
    seen: set[int] = set()
    for path in _sample_files():
        pmids = {a.pmid for a in parse_efetch(_xml(path)).articles}
        if pmids and not pmids & seen:
            files.append(path)
            seen |= pmids
    assert len(files) > 3
    forward = journals_in_order(files, tmp_path / "forward")
    backward = journals_in_order(files[::-1], tmp_path / "backward")
    assert forward.num_rows > 100
    assert forward.equals(backward)


def test_the_journals_table_is_the_same_whatever_the_order_of_the_fixture_files(tmp_path):
    forward = journals_in_order(LOCAL, tmp_path / "forward")
    assert forward.equals(journals_in_order(LOCAL[::-1], tmp_path / "backward"))
    nejm = [j for j in forward.to_pylist() if j["nlm_id"] == "0255562"]
    assert [(j["issn_print"], j["issn_electronic"]) for j in nejm] == [(None, "1533-4406")]
