"""download, then bulk, then show: the bulk path as a user runs it, over loopback."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.load.concept_tables import DETAIL_TABLES
from tests.bulk.test_bulk import CUI, DELETED, _pubmed_xml, write_baseline_and_update
from tests.conftest import ROOT
from tests.extract.test_download import fake  # noqa: F401  (the loopback FTP fixture)


def medgen_files(folder: Path) -> dict[str, bytes]:
    """Made here: the demo concept's links (its 19 PMIDs), name and NCI definition."""
    pmids = re.findall(r'<PMID Version="1">(\d+)</PMID>', _pubmed_xml())
    links = "#UID|CUI|NAME|PMID|\n" + "".join(
        f"1662593|{CUI}|Refractory Acute Leukemia|{p}|\n" for p in pmids
    )
    names = f"#CUI|name|source|SUPPRESS|\n{CUI}|Refractory Acute Leukemia|NCI|N|\n"
    definition = "Acute leukemia that does not respond to treatment."
    definitions = f"#CUI|DEF|source|SUPPRESS|\n{CUI}|{definition}|NCI|N|\n"
    return {
        "medgen_pubmed_lnk.txt.gz": gzip.compress(links.encode()),
        "NAMES.RRF.gz": gzip.compress(names.encode()),
        "MGDEF.RRF.gz": gzip.compress(definitions.encode()),
    }


FTP = ROOT / "tests" / "data" / "medgen_ftp"
# Remote path -> the fixture it is served from (gzipped as NCBI serves it when named .gz).
CONCEPT_FILES = {
    "pub/medgen/MGCONSO.RRF.gz": "MGCONSO.RRF",
    "pub/medgen/MGSTY.RRF.gz": "MGSTY.RRF",
    "pub/medgen/MGREL.RRF.gz": "MGREL.RRF",
    "pub/medgen/MedGen_HPO_OMIM_Mapping.txt.gz": "MedGen_HPO_OMIM_Mapping.txt",
    "gene/DATA/mim2gene_medgen": "mim2gene_medgen",
}
CONCEPT_OPTIONS = ("--conso", "--semantic-types", "--relations", "--hpo-omim", "--mim2gene")


def concept_file_bytes(remote: str) -> bytes:
    data = (FTP / CONCEPT_FILES[remote]).read_bytes()
    return gzip.compress(data) if remote.endswith(".gz") else data


def bulk_args(folder: Path, out: Path, *concepts: str) -> list[str]:
    """bulk, serially, over the MedGen files and pubmed/ written into ``folder``."""
    args = ["bulk", *(a for c in concepts for a in ("--concept", c)), "--out", str(out)]
    return [
        *args,
        "--executor",
        "serial",
        "--links",
        str(folder / "medgen_pubmed_lnk.txt.gz"),
        "--names",
        str(folder / "NAMES.RRF.gz"),
        "--definitions",
        str(folder / "MGDEF.RRF.gz"),
        "--pubmed",
        str(folder / "pubmed"),
    ]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_download_then_bulk_then_show(fake, tmp_path):  # noqa: F811
    for name, data in medgen_files(tmp_path).items():
        fake.add(f"pub/medgen/{name}", data)
    for remote in CONCEPT_FILES:
        fake.add(remote, concept_file_bytes(remote))
    for path in write_baseline_and_update(tmp_path / "made"):
        fake.add(f"pubmed/baseline/{path.name}", path.read_bytes())
    downloads = tmp_path / "downloads"
    fetched = invoke(
        "download", "--medgen", "--baseline", "--base-url", fake.base_url, "--dest", str(downloads)
    )
    assert fetched.exit_code == 0, fetched.output
    assert len(fetched.output.split()) == 10
    concept_args = [
        a
        for option, remote in zip(CONCEPT_OPTIONS, CONCEPT_FILES, strict=True)
        for a in (option, str(downloads / remote.rsplit("/", 1)[1]))
    ]

    out = tmp_path / "out"
    built = invoke(
        "bulk",
        "--concept",
        CUI,
        "--out",
        str(out),
        "--executor",
        "serial",
        "--links",
        str(downloads / "medgen_pubmed_lnk.txt.gz"),
        "--names",
        str(downloads / "NAMES.RRF.gz"),
        "--definitions",
        str(downloads / "MGDEF.RRF.gz"),
        *concept_args,
        "--pubmed",
        str(downloads),
    )
    assert built.exit_code == 0, built.output
    manifest = json.loads((out / "current" / "manifest.json").read_text())
    read = manifest["bulk"]["concept_files"]["files"]
    assert read["MGCONSO.RRF.gz"]["lines"] == 12
    assert manifest["files"]["concept_codes/part-0.parquet"]["rows"] == 0  # Bloom only
    shown = invoke("show", CUI, "--out", str(out), "--limit", "2")
    assert shown.exit_code == 0
    assert "Acute leukemia that does not respond to treatment.\u00a0[from NCI]" in shown.output
    assert "All linked citations\n\nIssa GC" in shown.output
    assert f"PMID: {DELETED}" not in shown.output
    assert invoke("verify", "--out", str(out)).exit_code == 0


def test_bulk_refuses_concept_names_with_a_usage_error(tmp_path):
    files = medgen_files(tmp_path)
    links = tmp_path / "links.gz"
    links.write_bytes(files["medgen_pubmed_lnk.txt.gz"])
    result = invoke(
        "bulk",
        "--concept",
        "Refractory Acute Leukemia",
        "--links",
        str(links),
        "--pubmed",
        str(links),
    )
    assert result.exit_code == 2
    assert "CUIs or MedGen UIDs" in result.output


def test_an_unknown_cui_is_a_failed_concept_and_the_run_is_partial(tmp_path):
    files = medgen_files(tmp_path)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    write_baseline_and_update(tmp_path / "pubmed")
    result = invoke(*bulk_args(tmp_path, tmp_path / "out", CUI, "C9999999"))
    assert result.exit_code == 65
    assert "C9999999" in result.output


def test_a_concept_with_names_but_no_links_is_found_with_no_uid_and_no_citations(tmp_path):
    files = medgen_files(tmp_path)
    names = (
        f"#CUI|name|source|SUPPRESS|\n{CUI}|Refractory Acute Leukemia|NCI|N|\n"
        "C0000077|Lonely|MSH|N|\n"
    )
    files["NAMES.RRF.gz"] = gzip.compress(names.encode())
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    write_baseline_and_update(tmp_path / "pubmed")
    out = tmp_path / "out"
    result = invoke(*bulk_args(tmp_path, out, "C0000077", CUI))
    assert result.exit_code == 0, result.output
    concepts = {r["cui"]: r for r in pq.read_table(out / "current" / "concepts").to_pylist()}
    assert concepts["C0000077"]["uid"] is None
    assert concepts["C0000077"]["name"] == "Lonely"
    assert concepts[CUI]["uid"] == 1662593


def test_bulk_refuses_an_output_directory_holding_a_current_it_did_not_make(tmp_path):
    for name, data in medgen_files(tmp_path).items():
        (tmp_path / name).write_bytes(data)
    write_baseline_and_update(tmp_path / "pubmed")
    out = tmp_path / "out"
    out.mkdir()
    (out / "current").write_text("the user's own file\n")
    result = invoke(*bulk_args(tmp_path, out, CUI))
    assert result.exit_code == 74
    assert str(out / "current") in result.output
    assert (out / "current").read_text() == "the user's own file\n"
    assert sorted(p.name for p in out.iterdir()) == ["current"]


def test_bulk_with_the_thin_tables_writes_those_and_the_same_rows_as_all_tables(tmp_path):
    for name, data in medgen_files(tmp_path).items():
        (tmp_path / name).write_bytes(data)
    write_baseline_and_update(tmp_path / "pubmed")
    thin, full = tmp_path / "thin", tmp_path / "full"
    args = ["--tables", "articles,authors,journals,citations"]
    assert invoke(*bulk_args(tmp_path, thin, CUI), *args).exit_code == 0
    assert invoke(*bulk_args(tmp_path, full, CUI)).exit_code == 0
    written = {p.name for p in (thin / "current").iterdir() if p.is_dir()}
    # The concept tables are always written: --tables selects among the article tables.
    always = {"concepts", "rejects", "changes", *DETAIL_TABLES}
    assert written == {"articles", "authors", "journals", "citations", *always}
    assert {"mesh_headings", "history", "article_ids"} <= {
        p.name for p in (full / "current").iterdir()
    }
    for table in sorted(written):
        assert pq.read_table(thin / "current" / table).equals(
            pq.read_table(full / "current" / table)
        ), table


def test_verify_inputs_without_update_is_refused_before_any_file_is_read(tmp_path):
    for name in ("medgen_pubmed_lnk.txt.gz", "NAMES.RRF.gz", "MGDEF.RRF.gz"):
        (tmp_path / name).write_bytes(b"")  # there (click checks), never read
    (tmp_path / "pubmed").mkdir()
    result = invoke(*bulk_args(tmp_path, tmp_path / "out", "C4725027"), "--verify-inputs")
    assert result.exit_code == 2
    assert "--verify-inputs" in result.output
    assert "give --update" in result.output
    assert not (tmp_path / "out").exists()
