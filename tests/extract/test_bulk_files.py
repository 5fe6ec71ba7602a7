from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from pipeline.errors import ResponseFormatError, UsageError
from pipeline.extract.bulk_files import open_lines, read_concept_texts, read_links
from pipeline.transform.medgen_files import (
    LineReject,
    MedgenDefinition,
    MedgenName,
    parse_definitions,
)
from tests.conftest import ROOT

BULK = ROOT / "tests" / "data" / "bulk"
LINKS = BULK / "medgen_pubmed_lnk.txt.gz"
NAMES = BULK / "NAMES.RRF.gz"
MGDEF = BULK / "MGDEF.RRF.gz"


def test_links_of_requested_concepts_come_back_grouped_with_the_bad_line_named():
    scan = read_links(LINKS, cuis={"C4725027", "CN000001"}, uids={2})
    assert [(c.cui, c.uid, c.name, c.pmids) for c in scan.concepts] == [
        ("C0000039", 2, "1,2 Dipalmitoylphosphatidylcholine", (1520723, 2157200)),
        ("C4725027", 1662593, "Refractory Acute Leukemia", (39000001, 39000002)),
        ("CN000001", 9000001, "Name with a | inside", (30000003,)),
    ]
    (reject,) = scan.rejects
    assert str(reject).startswith(f"{LINKS} line 8: PMID 'not-a-pmid' is not a positive integer")
    assert scan.lines == 7


def test_names_and_multi_line_definitions_come_back_per_concept():
    scan = read_concept_texts(NAMES, MGDEF, {"C4725027", "C0000039", "CN000001", "C0000041"})
    by_cui = {c.cui: c for c in scan.concepts}
    assert by_cui["CN000001"].preferred == MedgenName("CN000001", "Current name", "GTR", False)
    assert by_cui["C0000039"].definitions == (
        MedgenDefinition(
            "C0000039",
            "First paragraph of an invented definition.\n"
            "Second paragraph, on its own physical line.",
            "MSH",
            False,
        ),
    )
    (cr_definition,) = by_cui["CN000001"].definitions
    assert cr_definition.text.startswith("Line one\nline two")
    assert cr_definition.suppressed
    assert by_cui["C0000041"].names == ()
    assert scan.missing == ()
    assert [(Path(r.file).name, r.line) for r in scan.rejects] == [
        ("NAMES.RRF.gz", 6),
        ("MGDEF.RRF.gz", 6),
    ]


def test_a_cr_inside_a_definition_does_not_split_the_physical_line():
    with open_lines(MGDEF) as lines:
        physical = list(lines)
    assert physical[4].startswith("CN000001|Line one\rline two")
    assert len(physical) == 7


def test_a_plain_uncompressed_file_reads_too(tmp_path: Path):
    plain = tmp_path / "MGDEF.RRF"
    plain.write_bytes(b"#CUI|DEF|source|SUPPRESS|\nC1|Text.|NCI|N|\n")
    with open_lines(plain) as lines:
        assert list(parse_definitions(lines)) == [MedgenDefinition("C1", "Text.", "NCI", False)]


def test_bytes_that_are_not_utf8_reject_only_their_own_line(tmp_path: Path):
    path = tmp_path / "NAMES.RRF.gz"
    path.write_bytes(
        gzip.compress(b"#CUI|name|source|SUPPRESS|\nC1|Caf\xe9|MSH|N|\nC2|Tea|MSH|N|\n", mtime=0)
    )
    scan = read_concept_texts(path, MGDEF, {"C1", "C2"})
    assert [c.cui for c in scan.concepts] == ["C2"]
    (reject,) = [r for r in scan.rejects if r.file == str(path)]
    assert (reject.line, reject.reason) == (2, "not UTF-8 (undecodable bytes)")


def test_a_truncated_gzip_names_the_file_and_the_last_good_line(tmp_path: Path):
    whole = gzip.compress(("#UID|CUI|NAME|PMID|\n" + "1|C1|n|2|\n" * 5000).encode(), mtime=0)
    path = tmp_path / "medgen_pubmed_lnk.txt.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ResponseFormatError) as info:
        read_links(path, cuis={"C1"})
    message = str(info.value)
    assert message.startswith(f"{path}: compressed data broken after line ")
    assert "truncated or corrupt download" in message


@pytest.mark.parametrize("name", ["absent.gz", "a-directory"])
def test_a_file_that_cannot_be_opened_is_a_usage_error_naming_it(tmp_path: Path, name: str):
    (tmp_path / "a-directory").mkdir()
    with pytest.raises(UsageError, match=name), open_lines(tmp_path / name):
        pass


def test_records_can_be_streamed_one_by_one():
    with open_lines(MGDEF) as lines:
        records = parse_definitions(lines, file=MGDEF.name)
        first = next(records)
        rest = list(records)
    assert isinstance(first, MedgenDefinition)
    assert first.cui == "C4725027"
    assert [type(r) for r in rest] == [
        MedgenDefinition,
        MedgenDefinition,
        LineReject,
        MedgenDefinition,
    ]
