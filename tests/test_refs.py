import pytest

from pipeline.errors import UsageError
from pipeline.models import ConceptRef
from pipeline.refs import parse_concept_ref, parse_concepts_file


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
