"""bulk's concept files: bad lines, wrong headers, blocks, --all-concepts."""

from __future__ import annotations

import dataclasses
import gzip
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.bulk.concept_files import ConceptFileReader, ConceptFiles
from pipeline.bulk.medgen import read_all_medgen, read_medgen
from pipeline.bulk.runner import BulkOptions, bulk_build
from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.errors import ResponseFormatError
from pipeline.load.concept_tables import DETAIL_TABLES
from pipeline.models import ConceptRef
from tests.bulk.test_bulk import write_baseline_and_update
from tests.test_concept_tables import FTP, concept_files

LINKS = "#UID|CUI|NAME|PMID|\n2685|C0005859|Bloom|2323662|\n16004|C0039082|Werner|3655707|\n"


def copy_files(tmp: Path) -> ConceptFiles:
    """The fixtures copied to ``tmp`` so a test may spoil one."""
    folder = tmp / "ftp"
    shutil.copytree(FTP, folder)
    return concept_files(folder)


def links_file(tmp: Path) -> Path:
    path = tmp / "medgen_pubmed_lnk.txt.gz"
    path.write_bytes(gzip.compress(LINKS.encode()))
    return path


def publish(tmp: Path, medgen: Any) -> tuple[Path, dict[str, Any]]:
    pubmed = write_baseline_and_update(tmp / "pubmed")
    settings = load_settings(env={}, overrides={"out_dir": tmp / "out"})
    return bulk_build(settings, medgen, BulkOptions(pubmed=pubmed, executor="serial"))


def tables(snapshot: Path) -> dict[str, list[dict[str, Any]]]:
    return {t: pq.read_table(snapshot / t / "part-0.parquet").to_pylist() for t in DETAIL_TABLES}


def both(files: ConceptFiles, tmp: Path) -> Any:
    refs = [ConceptRef("cui", "C0005859"), ConceptRef("cui", "C0039082")]
    return read_medgen(refs, links_file(tmp), None, None, files)


def test_an_unreadable_line_is_a_manifest_warning_with_its_line_number(tmp_path):
    files = copy_files(tmp_path)
    assert files.rel is not None
    with files.rel.open("a") as f:
        f.write("C0005859|A1|SCUI|RO|not-a-cui|A2|has_manifestation|R9|OMIM|OMIM|N|\n")
    snapshot, manifest = publish(tmp_path, both(files, tmp_path))
    [warning] = manifest["warnings"]
    assert warning.startswith(f"{files.rel} line 7: CUI2 'not-a-cui' is not a MedGen concept id")
    assert manifest["bulk"]["concept_files"]["files"]["MGREL.RRF"]["rejected"] == 1
    assert len(tables(snapshot)["concept_relations"]) == 4  # the readable rows all kept


def test_a_file_with_the_wrong_header_is_refused_before_any_pubmed_file_is_read(tmp_path):
    files = copy_files(tmp_path)
    assert files.sty is not None
    files.sty.write_text("#CUI|name|source|SUPPRESS|\nC0005859|Bloom|MSH|N|\n")
    with pytest.raises(ResponseFormatError, match=r"MGSTY\.RRF line 1: expected the header"):
        both(files, tmp_path)


def test_the_cli_exits_69_naming_a_file_with_the_wrong_header(tmp_path):
    files = copy_files(tmp_path)
    assert files.conso is not None
    files.conso.write_text("#CUI|TS|STR|\n")
    result = CliRunner().invoke(
        main,
        [
            *("bulk", "--concept", "C0005859", "--links", str(links_file(tmp_path))),
            *("--conso", str(files.conso), "--pubmed", str(files.conso)),
        ],
    )
    assert result.exit_code == 69, result.output
    assert f"{files.conso} line 1: expected the header" in result.output


def test_small_blocks_give_the_same_rows_as_one_block(tmp_path):
    cuis = {"C0005859", "C0039082"}
    whole = ConceptFileReader(concept_files(), cuis)
    small = ConceptFileReader(concept_files(), cuis, block_bytes=64)
    for table in DETAIL_TABLES:
        one = pa.concat_tables(list(whole.parts(table)))
        many = list(small.parts(table))
        assert len(many) > 1 or one.num_rows == 0
        assert pa.concat_tables(many).to_pylist() == one.to_pylist(), table


def test_all_concepts_writes_the_same_detail_rows_as_naming_every_concept(tmp_path):
    named, _ = publish(tmp_path / "named", both(concept_files(), tmp_path))
    medgen = read_all_medgen(links_file(tmp_path), None, None, concept_files())
    every, manifest = publish(tmp_path / "all", medgen)
    assert tables(every) == tables(named)
    assert all(tables(every).values())
    concepts = pq.read_table(every / "concepts").to_pylist()
    assert [c["mesh_ids"] for c in concepts] == [["D001816"], ["D014898"]]
    assert manifest["concepts"]["all"] is True


def test_a_concept_under_two_mim_numbers_gets_each_feature_and_gene_once(tmp_path):
    files = copy_files(tmp_path)
    assert files.hpo_omim is not None
    assert files.mim2gene is not None
    with files.hpo_omim.open("a") as f:
        f.write(
            "C0005859|210901|BLOOM 2|manifestation_of|C0349588|HP:0004322|Short stature|"
            "GTR|Finding|\n"
        )
    with files.mim2gene.open("a") as f:
        f.write("210901\t641\tphenotype\tGeneMap\tC0005859\t-\n")
    reader = ConceptFileReader(files, {"C0005859"})
    features = pa.concat_tables(list(reader.parts("concept_features")))
    genes = pa.concat_tables(list(reader.parts("concept_genes")))
    assert features["feature_cui"].to_pylist().count("C0349588") == 1
    assert genes["gene_id"].to_pylist() == [641]
    assert reader.duplicates == {"concept_features": 1, "concept_genes": 1}


def test_without_concept_files_the_detail_tables_are_written_empty(tmp_path):
    snapshot, manifest = publish(tmp_path, both(ConceptFiles(), tmp_path))
    assert all(rows == [] for rows in tables(snapshot).values())
    assert manifest["bulk"]["concept_files"] is None
    assert dataclasses.astuple(ConceptFiles()) == (None,) * 5


def test_reading_a_big_mgrel_holds_one_block_not_the_file(tmp_path):
    """Made here: 300,000 relations (about 25 MB) of which the requested concept has one."""
    path = tmp_path / "MGREL.RRF.gz"
    header = "#CUI1|AUI1|STYPE1|REL|CUI2|AUI2|RELA|RUI|SAB|SL|SUPPRESS|\n"
    body = "".join(
        f"C{n:07d}|A{n}|SCUI|RO|C{n + 1:07d}|A{n + 1}|has_manifestation|R{n}|OMIM|OMIM|N|\n"
        for n in range(300_000)
    )
    path.write_bytes(gzip.compress((header + body).encode(), compresslevel=1))
    reader = ConceptFileReader(ConceptFiles(rel=path), {"C0000007"}, block_bytes=1 << 18)
    start = pa.total_allocated_bytes()
    peak = 0
    kept = []
    for part in reader.parts("concept_relations"):
        kept.append(part)
        peak = max(peak, pa.total_allocated_bytes() - start)
    assert pa.concat_tables(kept)["related_cui"].to_pylist() == ["C0000008"]
    assert reader.stats["MGREL.RRF.gz"].lines == 300_000
    assert peak < 8 * (1 << 20)  # a few blocks' worth, not the file's 25 MB
