"""read_links_table (the whole links file, columnar) agrees with group_links line for line."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import ResponseFormatError
from pipeline.extract.bulk_files import open_lines, read_links, read_links_table
from pipeline.transform.medgen_files import LineReject, parse_links
from tests.conftest import ROOT

HEADER = b"#UID|CUI|NAME|PMID|\n"
FIXTURE = ROOT / "tests" / "data" / "bulk" / "medgen_pubmed_lnk.txt.gz"

GOOD = st.builds(
    lambda uid, cui, name, pmid: f"{uid}|{cui}|{name}|{pmid}|".encode(),
    st.sampled_from(["1", "2", "0003", "1662593"]),
    st.sampled_from(["C0000039", "CN000001", "C4725027"]),
    st.sampled_from(["Plain", " Padded ", "With | pipe", "", "Ünïcode", "  "]),
    st.sampled_from(["1520723", "39000001", "0042", "7"]),
)
BAD = st.sampled_from(
    [
        b"",
        b"0|C1|Zero uid|5|",
        b"1|C1|No closing bar|5",
        b"1|X1|Bad cui|5|",
        b"1|C1|Bad pmid|x|",
        b"1|C1|Not utf-8 \xff|5|",
        b"1|C1|Carriage return|5|\r",
        b"1|C1|Stray \r inside|5|",
        b"1|C1|" + "\u00b2".encode() + b"|2|",
        b"12345678901234567890123|C1|Huge uid|5|",
        b"1234567890123|C1|Uid of 13 digits|5|",
        b"999999999999|C1|Largest uid|5|",
        b"1|C1|Pmid of 10 digits|1234567890|",
        b"1|C1|Largest pmid|0999999999|",
        b"1|C1|Huge pmid|" + b"9" * 5000 + b"|",
        b"0000|C1|Zeros|5|",
        b"1|C1|",
    ]
)


def write(tmp: Path, lines: list[bytes], *, final_newline: bool) -> Path:
    body = HEADER + b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    path = tmp / "links.txt.gz"
    path.write_bytes(gzip.compress(body))
    return path


def same_as_group_links(path: Path, block_bytes: int) -> None:
    table = read_links_table(path, max_rejects=10_000, block_bytes=block_bytes)
    rows = table.links.to_pylist()
    cuis = {r["cui"] for r in rows} or {"C0000000"}
    scan = read_links(path, cuis=cuis, max_rejects=10_000)
    grouped: dict[tuple[int, str], list[int]] = {}
    for r in rows:
        grouped.setdefault((r["uid"], r["cui"]), []).append(r["pmid"])
    assert grouped == {(c.uid, c.cui): list(c.pmids) for c in scan.concepts}
    assert table.names == {(c.uid, c.cui): c.name for c in scan.concepts}
    # Every line is checked (as parse_links does; group_links reads only the lines
    # of the concepts it looks for), by the same rules: the same rejects.
    with open_lines(path) as text:
        every = [r for r in parse_links(text, file=str(path)) if isinstance(r, LineReject)]
    assert list(table.rejects) == every
    assert table.lines == scan.lines


def test_the_fixture_links_file_reads_as_group_links_reads_it():
    same_as_group_links(FIXTURE, 1 << 26)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(st.one_of(GOOD, GOOD, BAD), max_size=30),
    final_newline=st.booleans(),
    block_bytes=st.sampled_from([16, 40, 100, 1 << 20]),
)
def test_any_links_file_reads_as_group_links_reads_it(tmp_path, lines, final_newline, block_bytes):
    same_as_group_links(write(tmp_path, lines, final_newline=final_newline), block_bytes)


def test_a_wrong_header_is_refused(tmp_path: Path):
    path = tmp_path / "links.txt"
    path.write_bytes(b"#CUI|name|source|SUPPRESS|\n1|C1|x|2|\n")
    with pytest.raises(ResponseFormatError, match="expected the header"):
        read_links_table(path)


def test_a_truncated_links_file_is_a_format_error_naming_it(tmp_path: Path):
    whole = gzip.compress(HEADER + b"1|C1|x|2|\n" * 5000)
    path = tmp_path / "links.txt.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ResponseFormatError, match=r"links\.txt\.gz: compressed data broken"):
        read_links_table(path)
