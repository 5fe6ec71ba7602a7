from __future__ import annotations

import pytest

from pipeline.errors import ResponseFormatError, UsageError
from pipeline.transform.medgen_files import (
    MAX_PMID,
    MAX_UID,
    LineReject,
    MedgenDefinition,
    MedgenLink,
    MedgenName,
    concept_texts,
    group_links,
    parse_definitions,
    parse_links,
    parse_names,
    preferred_name,
    read_id,
)

LINKS_HEADER = "#UID|CUI|NAME|PMID|\n"
NAMES_HEADER = "#CUI|name|source|SUPPRESS|\n"
DEFS_HEADER = "#CUI|DEF|source|SUPPRESS|\n"


def links(*rows: str) -> list[str]:
    return [LINKS_HEADER, *rows]


def names(*rows: str) -> list[str]:
    return [NAMES_HEADER, *rows]


def defs(*rows: str) -> list[str]:
    return [DEFS_HEADER, *rows]


# ---------------------------------------------------------------- links


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "2|C0000039|1,2 Dipalmitoylphosphatidylcholine|1520723|\n",
            MedgenLink(2, "C0000039", "1,2 Dipalmitoylphosphatidylcholine", 1520723),
        ),
        ("9|CN169374|A name|7|\r\n", MedgenLink(9, "CN169374", "A name", 7)),
        ("9|C0000001|Name | with a pipe|7|\n", MedgenLink(9, "C0000001", "Name | with a pipe", 7)),
        ("9|C0000001||7|\n", MedgenLink(9, "C0000001", None, 7)),
        (
            "9|C0000001|no newline at end of file|7|",
            MedgenLink(9, "C0000001", "no newline at end of file", 7),
        ),
    ],
)
def test_a_links_line_becomes_a_typed_link(line: str, expected: MedgenLink):
    assert list(parse_links(links(line))) == [expected]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2|C0000039|Name|1520723\n", "does not end with '|'"),
        ("2|C0000039|1520723|\n", "expected UID|CUI|NAME|PMID|, found 3 fields"),
        ("x2|C0000039|Name|1520723|\n", "UID 'x2' is not a positive integer"),
        ("0|C0000039|Name|1520723|\n", "UID '0' is not a positive integer"),
        ("2|C0000039|Name|²|\n", "PMID '²' is not a positive integer"),
        ("2|D0000039|Name|1520723|\n", "CUI 'D0000039' is not a MedGen concept id"),
        ("\n", "empty line"),
        ("2|C0000039|Caf\udce9|1520723|\n", "not UTF-8"),
    ],
)
def test_a_bad_links_line_is_a_reject_naming_file_line_and_reason(line: str, reason: str):
    (reject,) = parse_links(links(line), file="lnk.gz")
    assert isinstance(reject, LineReject)
    assert (reject.file, reject.line) == ("lnk.gz", 2)
    assert reason in reject.reason
    assert str(reject).startswith("lnk.gz line 2: ")


@pytest.mark.parametrize(
    ("first_lines", "message"),
    [
        ([], "lnk.gz: empty file, expected the header '#UID|CUI|NAME|PMID|'"),
        (["#CUI|name|source|SUPPRESS|\n"], "lnk.gz line 1: expected the header"),
        (["2|C0000039|Name|1520723|\n"], "found '2|C0000039|Name|1520723|'"),
    ],
)
def test_a_file_without_the_expected_header_is_refused_at_once(
    first_lines: list[str], message: str
):
    with pytest.raises(ResponseFormatError) as info:
        list(parse_links(first_lines, file="lnk.gz"))
    assert message in str(info.value)


def test_the_header_is_matched_without_regard_to_case_or_trailing_space():
    assert list(parse_links(["#uid|cui|name|pmid| \r\n", "1|C1|n|2|\n"])) == [
        MedgenLink(1, "C1", "n", 2)
    ]


def test_parsing_is_lazy_so_memory_stays_flat():
    def endless():
        yield LINKS_HEADER
        n = 0
        while True:
            n += 1
            yield f"{n}|C{n:07d}|name|{n}|\n"

    records = parse_links(endless())
    assert next(records) == MedgenLink(1, "C0000001", "name", 1)
    assert next(records) == MedgenLink(2, "C0000002", "name", 2)


# ---------------------------------------------------------------- grouping links

LINK_LINES = links(
    "1662593|C4725027|Refractory Acute Leukemia|39000002|\n",
    "1662593|C4725027|Refractory Acute Leukemia|39000001|\n",
    "1662593|C4725027|Refractory Acute Leukemia|39000002|\n",
    "2|C0000039|DPPC|2157200|\n",
    "2|C0000039|DPPC|1520723|\n",
    "3|C0000040|Other|5|\n",
)


@pytest.mark.parametrize(
    ("cuis", "uids", "found", "missing"),
    [
        ({"C4725027"}, set(), [("C4725027", 1662593, (39000001, 39000002))], ()),
        (set(), {2}, [("C0000039", 2, (1520723, 2157200))], ()),
        (
            {"C4725027", "C7777777"},
            {2, 99},
            [("C0000039", 2, (1520723, 2157200)), ("C4725027", 1662593, (39000001, 39000002))],
            ("C7777777", "99"),
        ),
    ],
)
def test_grouping_keeps_only_requested_concepts_with_distinct_sorted_pmids(
    cuis: set[str], uids: set[int], found: list[tuple[str, int, tuple[int, ...]]], missing
):
    scan = group_links(LINK_LINES, cuis=cuis, uids=uids)
    assert [(c.cui, c.uid, c.pmids) for c in scan.concepts] == found
    assert scan.missing == missing
    assert scan.rejects == ()
    assert scan.lines == 6


def test_grouping_collects_a_bad_line_of_a_requested_concept_and_keeps_going():
    lines = links(
        "3|C0000040|Other|5|\n",
        "3|C0000040|Other|not-a-pmid|\n",
        "3|C0000040|Other|6|\n",
    )
    scan = group_links(lines, cuis={"C0000040"}, file="lnk.gz")
    assert scan.concepts[0].pmids == (5, 6)
    (reject,) = scan.rejects
    assert (reject.file, reject.line) == ("lnk.gz", 3)
    assert "PMID 'not-a-pmid'" in reject.reason


def test_grouping_does_not_validate_lines_of_concepts_nobody_asked_for():
    # Documented trade-off: validating all 48 million lines costs ~17x the time.
    lines = links("garbage\n", "3|C0000040|Other|5|\n", "4|C0000041|x|broken|\n")
    scan = group_links(lines, cuis={"C0000040"})
    assert scan.rejects == ()
    assert scan.concepts[0].pmids == (5,)


def test_grouping_gives_up_naming_the_file_when_bad_lines_pass_the_limit():
    lines = links(*[f"3|C0000040|Other|bad{i}|\n" for i in range(4)])
    with pytest.raises(ResponseFormatError) as info:
        group_links(lines, cuis={"C0000040"}, file="lnk.gz", max_rejects=3)
    message = str(info.value)
    assert "lnk.gz: more than 3 malformed lines" in message
    assert "lnk.gz line 2: PMID 'bad0'" in message


def test_grouping_without_anything_to_look_for_is_a_usage_error():
    with pytest.raises(UsageError, match="at least one CUI or UID"):
        group_links(LINK_LINES)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "C4725027|Refractory Acute Leukemia|NCI|N|\n",
            MedgenName("C4725027", "Refractory Acute Leukemia", "NCI", False),
        ),
        ("CN000001|Old name|GTR|Y|\n", MedgenName("CN000001", "Old name", "GTR", True)),
        (
            "C0000001|Editor suppressed|MSH|E|\n",
            MedgenName("C0000001", "Editor suppressed", "MSH", True),
        ),
        ("C0000001|Obsolete|MSH|O|\n", MedgenName("C0000001", "Obsolete", "MSH", True)),
        ("C0000001|No source||N|\n", MedgenName("C0000001", "No source", None, False)),
        ("C0000001|A | B|MSH|N|\n", MedgenName("C0000001", "A | B", "MSH", False)),
    ],
)
def test_a_names_row_becomes_a_typed_name(line: str, expected: MedgenName):
    assert list(parse_names(names(line))) == [expected]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("C0000001|Name|MSH|X|\n", "SUPPRESS 'X' is not one of N, Y, E, O"),
        ("C0000001|Name|MSH|\n", "expected CUI|name|source|SUPPRESS|, found 3 fields"),
        ("C0000001| |MSH|N|\n", "empty name"),
        ("0000001|Name|MSH|N|\n", "CUI '0000001' is not a MedGen concept id"),
        ("C0000001|Row that never ends\n", "does not end with '|'"),
    ],
)
def test_a_bad_names_row_is_a_reject_naming_the_line(line: str, reason: str):
    (reject,) = parse_names(names(line), file="NAMES.RRF.gz")
    assert isinstance(reject, LineReject)
    assert str(reject).startswith(f"NAMES.RRF.gz line 2: {reason}")


# ---------------------------------------------------------------- definitions


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            ["C0000001|One line.|NCI|N|\n"],
            [MedgenDefinition("C0000001", "One line.", "NCI", False)],
        ),
        (
            ["C0000001|First paragraph.\n", "\n", "Second paragraph.|MSH|N|\n"],
            [MedgenDefinition("C0000001", "First paragraph.\n\nSecond paragraph.", "MSH", False)],
        ),
        (
            ["C0000001|Line one\rline two\r\nline three|GTR|Y|\n"],
            [MedgenDefinition("C0000001", "Line one\nline two\nline three", "GTR", True)],
        ),
        (
            ["C0000001|A line ending in a pipe|\n", "goes on.|NCI|N|\n"],
            [MedgenDefinition("C0000001", "A line ending in a pipe|\ngoes on.", "NCI", False)],
        ),
        (
            ["C0000001|Last record, no final newline|NCI|N|"],
            [MedgenDefinition("C0000001", "Last record, no final newline", "NCI", False)],
        ),
    ],
)
def test_definitions_join_the_physical_lines_of_one_record(
    rows: list[str], expected: list[MedgenDefinition]
):
    assert list(parse_definitions(defs(*rows))) == expected


def test_a_record_that_never_ends_is_rejected_and_the_next_record_still_reads():
    rows = defs(
        "C0000040|A record whose end was lost\n",
        "C0000041|The record after it.|NCI|N|\n",
    )
    reject, good = parse_definitions(rows, file="MGDEF.RRF.gz")
    assert isinstance(reject, LineReject)
    assert str(reject).startswith(
        "MGDEF.RRF.gz line 2: record does not end with '|' before a new record starts"
    )
    assert good == MedgenDefinition("C0000041", "The record after it.", "NCI", False)


@pytest.mark.parametrize(
    ("rows", "line", "reason"),
    [
        (["C0000001|Cut off at the end of the file\n"], 2, "file ends inside a record"),
        (["C0000001|a\n", "b\n", "c\n"], 2, "record not complete after 3 lines (15 characters)"),
        (["C0000001||NCI|N|\n"], 2, "empty definition"),
        (["C0000001|Text|NCI|maybe|\n"], 2, "SUPPRESS 'maybe' is not one of N, Y, E, O"),
        (["C0000001|ok|NCI|N|\n", "XY|Text|NCI|N|\n"], 3, "CUI 'XY' is not a MedGen concept id"),
    ],
)
def test_a_bad_definition_is_a_reject_naming_the_line_where_it_starts(
    rows: list[str], line: int, reason: str
):
    records = list(parse_definitions(defs(*rows), max_record_lines=3))
    rejects = [r for r in records if isinstance(r, LineReject)]
    assert [(r.line, r.reason.startswith(reason)) for r in rejects] == [(line, True)]


# ---------------------------------------------------------------- names and definitions per CUI


def test_concept_texts_gather_names_and_sourced_definitions_of_requested_cuis_only():
    scan = concept_texts(
        parse_names(
            names(
                "C1|Other concept|MSH|N|\n",
                "C2|Old suppressed name|GTR|Y|\n",
                "C2|Current name|GTR|N|\n",
            )
        ),
        parse_definitions(
            defs("C2|From NCI.|NCI|N|\n", "C2|From MSH.|MSH|Y|\n", "C3|Only a definition.|NCI|N|\n")
        ),
        {"C2", "C3", "C4"},
    )
    c2, c3 = scan.concepts
    assert c2.preferred == MedgenName("C2", "Current name", "GTR", False)
    assert [n.name for n in c2.names] == ["Old suppressed name", "Current name"]
    assert [(d.text, d.source, d.suppressed) for d in c2.definitions] == [
        ("From NCI.", "NCI", False),
        ("From MSH.", "MSH", True),
    ]
    assert (c3.cui, c3.preferred, c3.names) == ("C3", None, ())
    assert scan.missing == ("C4",)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], None),
        ([("A", True), ("B", False), ("C", False)], "B"),
        ([("A", True), ("B", True)], "A"),
        ([("A", False), ("B", False)], "A"),
    ],
)
def test_the_preferred_name_is_the_first_unsuppressed_row_else_the_first(
    rows: list[tuple[str, bool]], expected: str | None
):
    chosen = preferred_name(MedgenName("C1", n, "GTR", s) for n, s in rows)
    assert (chosen.name if chosen else None) == expected


def test_concept_texts_report_rejects_of_both_files():
    scan = concept_texts(
        parse_names(names("C1|broken\n"), file="NAMES"),
        parse_definitions(defs("C1|cut"), file="MGDEF"),
        {"C1"},
    )
    assert [(r.file, r.line) for r in scan.rejects] == [("NAMES", 2), ("MGDEF", 2)]
    assert scan.concepts == ()
    assert scan.missing == ("C1",)


@pytest.mark.parametrize(
    ("text", "largest", "expected"),
    [
        ("1520723", MAX_PMID, 1520723),
        ("0042", MAX_PMID, 42),
        ("999999999", MAX_PMID, 999_999_999),
        ("1000000000", MAX_PMID, "PMID '1000000000' (10 digits) is larger than 999999999"),
        ("9" * 5000, MAX_PMID, "PMID '999999999999999999999999...' (5000 digits) is larger"),
        ("0", MAX_PMID, "PMID '0' is not a positive integer"),
        ("", MAX_PMID, "PMID '' is not a positive integer"),
        ("-5", MAX_PMID, "PMID '-5' is not a positive integer"),
        ("²", MAX_PMID, "PMID '²' is not a positive integer"),
        ("١٢", MAX_PMID, "PMID '١٢' is not a positive integer"),
        ("999999999999", MAX_UID, 999_999_999_999),
        ("12345678901234567890123", MAX_UID, "(23 digits) is larger than 999999999999"),
    ],
)
def test_read_id_is_the_one_rule_for_a_uid_or_pmid(text, largest, expected):
    label = "UID" if largest == MAX_UID else "PMID"
    got = read_id(label, text, largest)
    if isinstance(expected, int):
        assert got == expected
    else:
        assert isinstance(got, str)
        assert expected in got
