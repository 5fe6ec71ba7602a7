import pytest

from pipeline.errors import UsageError
from pipeline.models import ConceptRef
from pipeline.refs import parse_concept_ref, parse_concepts_file, read_concepts_file, search_phrase


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C4725027", ConceptRef("cui", "C4725027")),
        ("c4725027", ConceptRef("cui", "C4725027")),
        ("CN001297", ConceptRef("cui", "CN001297")),
        ("1662593", ConceptRef("uid", "1662593")),
        ("Refractory Acute Leukemia", ConceptRef("name", "Refractory Acute Leukemia")),
    ],
)
def test_parse_concept_ref_recognizes_uids_cuis_and_names(text, expected):
    assert parse_concept_ref(text) == expected


@pytest.mark.parametrize("text", ["../etc", "/abs/path", "a\x00b", "x" * 201, "", "a/b"])
def test_parse_concept_ref_rejects_paths_control_characters_and_overlong_values(text):
    with pytest.raises(UsageError):
        parse_concept_ref(text)


def test_concepts_file_skips_comments_and_names_the_bad_line():
    assert parse_concepts_file("# header\nC4725027  # demo\n\n1662593\n", "f") == [
        ConceptRef("cui", "C4725027"),
        ConceptRef("uid", "1662593"),
    ]
    with pytest.raises(UsageError, match="f:2"):
        parse_concepts_file("C1\n../x\n", "f")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ('zzz" OR C0023467 OR "zzz', 'holds "'),
        ('Leukemia "acute"', 'holds "'),
        ("Leuk*", r"holds \*"),
        ("Leukemia[mh]", r"holds \[ \]"),
        ("zzz OR C0023467", "holds 'OR'"),
        ("Leukemia AND Lymphoma", "holds 'AND'"),
        ("NOT leukemia", "holds 'NOT'"),
    ],
)
def test_a_name_that_esearch_would_read_as_syntax_is_refused_naming_it(name, problem):
    with pytest.raises(UsageError, match=problem) as raised:
        parse_concept_ref(name)
    assert repr(name) in str(raised.value)


@pytest.mark.parametrize(
    ("name", "term"),
    [
        ("Refractory Acute Leukemia", '"Refractory Acute Leukemia"'),
        ("Leukemia or lymphoma", '"Leukemia or lymphoma"'),
        ("Noonan syndrome 1 (NS1)", '"Noonan syndrome 1 (NS1)"'),
        ("Ehlers-Danlos syndrome, type 4", '"Ehlers-Danlos syndrome, type 4"'),
        ("ORAL cancer", '"ORAL cancer"'),
    ],
)
def test_a_name_is_searched_as_one_quoted_phrase(name, term):
    assert search_phrase(parse_concept_ref(name).value) == term


def test_search_phrase_refuses_what_it_cannot_quote_even_past_the_parser():
    with pytest.raises(UsageError, match="cannot be searched as a name"):
        search_phrase('a" OR "b')


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("C4725027\n".encode("utf-16"), r"^f:1: the file is UTF-16"),
        ("C4725027\n".encode("utf-16-be"), r"^f:1: NUL bytes \(is the file UTF-16"),
        (b"C4725027\n1662593\nLeuk\xe4mie\n", r"^f:3: not UTF-8 \(byte 21"),
        (b"C4725027\n\xff\n", r"^f:2: not UTF-8"),
        (b"C4725027\nLeuk\x0cemia\n", r"^f:2: .*control characters"),
        ("C4725027\nLeuk\u2028emia\n".encode(), r"^f:2: .*control characters"),
        (b"\xef\xbb\xbfC4725027\n\xef\xbb\xbfC1\n", r"^f:2: .*control characters"),
    ],
)
def test_a_concepts_file_that_is_not_clean_utf8_names_the_line(data, message):
    with pytest.raises(UsageError, match=message):
        read_concepts_file(data, "f")


def test_a_byte_order_mark_at_the_start_of_a_concepts_file_is_dropped():
    data = b"\xef\xbb\xbfC4725027\r\n1662593\r\n"
    assert read_concepts_file(data, "f") == [
        ConceptRef("cui", "C4725027"),
        ConceptRef("uid", "1662593"),
    ]


@pytest.mark.parametrize("text", ["C4725027\n", "1662593\n", "12\n"])
def test_whitespace_around_an_id_is_dropped_before_it_is_matched_in_full(text):
    assert parse_concept_ref(text).value == text.strip()
