"""Blocks of MedGen concept-file lines → Arrow rows and rejects (pipeline.transform.medgen_rrf)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline.errors import ResponseFormatError
from pipeline.transform.medgen_rrf import MGREL, MGSTY, MIM2GENE, check_header, read_block


def block(*lines: bytes) -> pa.Array:
    return pa.array(list(lines), pa.binary())


def test_good_lines_are_split_into_their_columns_with_empty_fields_null():
    rows = read_block(MGSTY, block(b"C0005859|T047|B2.2|Disease or Syndrome||"), 2, "MGSTY.RRF")
    assert rows.rejects == ()
    assert rows.rows.to_pylist() == [
        {
            "line": 2,
            "CUI": "C0005859",
            "TUI": "T047",
            "STN": "B2.2",
            "STY": "Disease or Syndrome",
            "ATUI": None,
        }
    ]


def test_every_bad_line_is_a_reject_naming_file_line_and_reason_in_line_order():
    lines = block(
        b"C1|T047|B|Disease|AT1|",
        b"C2|T047|B|Disease|AT1",  # no closing |
        b"C3|T047|B|Dis|ease|AT1|",  # a | inside a value: one field too many
        b"X4|T047|B|Disease|AT1|",  # not a CUI
        b"",
        b"C6|T047|B|Dis\xffease|AT1|",
        b"|T047|B|Disease|AT1|",  # no CUI at all
        b"CN7|T047|B|Disease|AT1|\r",  # a CR before the line break is not data
    )
    read = read_block(MGSTY, lines, 10, "MGSTY.RRF")
    assert read.rows["line"].to_pylist() == [10, 17]
    assert read.rows["ATUI"].to_pylist() == ["AT1", "AT1"]
    assert [(r.file, r.line, r.reason) for r in read.rejects] == [
        ("MGSTY.RRF", 11, "does not end with '|'"),
        ("MGSTY.RRF", 12, "expected 5 fields (CUI|TUI|STN|STY|ATUI|), found 6"),
        ("MGSTY.RRF", 13, "CUI 'X4' is not a MedGen concept id (C… or CN…)"),
        ("MGSTY.RRF", 14, "empty line"),
        ("MGSTY.RRF", 15, "not UTF-8 (undecodable bytes)"),
        ("MGSTY.RRF", 16, "empty CUI"),
    ]
    assert read.rejects[2].text == "X4|T047|B|Disease|AT1|"


def test_mim2gene_is_tab_separated_with_dashes_for_none_and_integer_gene_ids():
    lines = block(
        b"210900\t641\tphenotype\tGeneMap\tC0005859\t-",
        b"604610\t641\tgene\t-\t-\t-",
        b"1\tBLM\tphenotype\t-\tC1\t-",
    )
    read = read_block(MIM2GENE, lines, 2, "mim2gene_medgen")
    assert read.rows["GeneID"].type == pa.int64()
    assert read.rows["MedGenCUI"].to_pylist() == ["C0005859", None]
    assert [(r.line, r.reason) for r in read.rejects] == [
        (4, "GeneID 'BLM' is not a non-negative integer")
    ]


def test_a_relation_needs_both_cuis_and_a_rel():
    read = read_block(MGREL, block(b"C1|A|S||C2|A|isa|R|MSH||N|"), 2, "MGREL.RRF")
    assert [r.reason for r in read.rejects] == ["empty REL"]


def test_a_file_whose_header_is_not_the_expected_one_is_refused_naming_it():
    check_header(MGSTY, "#CUI|TUI|STN|STY|ATUI|\n", "MGSTY.RRF.gz")
    check_header(MIM2GENE, "#MIM number\tGeneID\ttype\tSource\tMedGenCUI\tComment\n", "m2g")
    with pytest.raises(ResponseFormatError, match=r"downloads/MGSTY\.RRF\.gz line 1: expected"):
        check_header(MGSTY, "#CUI|name|source|SUPPRESS|\n", "downloads/MGSTY.RRF.gz")
