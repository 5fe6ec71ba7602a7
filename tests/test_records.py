"""quick_constructor gives the very records the dataclasses give."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest

from pipeline.models import (
    Affiliation,
    Article,
    ArticleIdentifier,
    Author,
    Chemical,
    CommentCorrection,
    DataBankAccession,
    Grant,
    HistoryDate,
    Journal,
    Keyword,
    MeshHeading,
    MeshQualifier,
    PubDate,
    Reference,
    SupplementaryConcept,
)
from pipeline.records import quick_constructor
from pipeline.transform.journal import EMPTY_JOURNAL

AFFILIATION: dict[str, Any] = {
    "text": "Dept X",
    "identifiers": ("0001",),
    "identifier_sources": ("ROR",),
}
AUTHOR: dict[str, Any] = {
    "position": 2,
    "last_name": "Doe",
    "fore_name": "Jane",
    "initials": "J",
    "suffix": None,
    "collective_name": None,
    "orcid": "0000-0002-1825-0097",
    "affiliations": (Affiliation(**AFFILIATION),),
    "valid": False,
    "equal_contrib": True,
    "orcid_source": "identifier",
}
PUB_DATE = PubDate(
    raw="2024 Oct",
    year=2024,
    display="2024 Oct",
    start=datetime.date(2024, 10, 1),
    end=datetime.date(2024, 10, 31),
    precision="month",
)


# A record's list items (pipeline/transform/record_lists.py builds them by the million).
QUALIFIER = MeshQualifier(ui="Q000627", name="therapeutic use", major=True)
LIST_ITEMS: list[tuple[type, dict[str, Any]]] = [
    (MeshQualifier, dataclasses.asdict(QUALIFIER)),
    (
        MeshHeading,
        {
            "position": 1,
            "descriptor_ui": "D000998",
            "descriptor_name": "Antiviral Agents",
            "descriptor_major": False,
            "descriptor_type": None,
            "qualifiers": (QUALIFIER,),
            "major": True,
        },
    ),
    (SupplementaryConcept, {"position": 1, "ui": "C000657245", "name": "x", "type": "Disease"}),
    (Keyword, {"position": 2, "keyword": "k", "owner": "NOTNLM", "major": False}),
    (
        Chemical,
        {"position": 1, "registry_number": "0", "substance_ui": None, "substance_name": "s"},
    ),
    (Grant, {"position": 1, "grant_id": "R01", "acronym": None, "agency": "NIH", "country": None}),
    (
        CommentCorrection,
        {"position": 1, "ref_type": "RetractionIn", "ref_pmid": 2, "ref_source": "J", "note": None},
    ),
    (
        Reference,
        {
            "position": 3,
            "citation": "c",
            "cited_pmid": None,
            "cited_doi": "10.1/x",
            "cited_pmcid": None,
        },
    ),
    (HistoryDate, {"status": "received", "date": datetime.date(2020, 1, 2)}),
    (ArticleIdentifier, {"id_type": "pii", "value": "S0"}),
    (DataBankAccession, {"position": 1, "name": "GENBANK", "accession": None}),
]


@pytest.mark.parametrize(
    ("cls", "values"),
    [
        (Affiliation, AFFILIATION),
        (Affiliation, {"text": "only the text"}),  # defaults
        (Author, AUTHOR),
        (Journal, dataclasses.asdict(EMPTY_JOURNAL) | {"nlm_id": "7908111"}),
        *((cls, values) for cls, values in LIST_ITEMS),
    ],
)
def test_quick_constructor_gives_an_equal_record(cls, values):
    quick = quick_constructor(cls)(**values)
    assert type(quick) is cls
    assert quick == cls(**values)
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.__setattr__(dataclasses.fields(cls)[0].name, None)


def test_quick_constructor_takes_positional_arguments_in_field_order():
    values = list(AUTHOR.values())
    assert quick_constructor(Author)(*values) == Author(*values)


def test_quick_article_equals_the_dataclass_with_its_defaults():
    required = [f.name for f in dataclasses.fields(Article) if f.default is dataclasses.MISSING]
    values: dict[str, Any] = dict.fromkeys(required)
    values |= {"pmid": 1, "pmid_version": 1, "record_kind": "article", "journal": EMPTY_JOURNAL}
    values |= {"pub_date": PUB_DATE, "publication_types": (), "languages": (), "authors": ()}
    values |= {"author_list_complete": True}
    assert quick_constructor(Article)(**values) == Article(**values)


def test_quick_constructor_refuses_what_it_cannot_copy():
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = dataclasses.field(default_factory=list)

    for cls in (NoSlots, Factory, dict):
        with pytest.raises(TypeError):
            quick_constructor(cls)


def test_a_missing_or_unknown_field_is_a_type_error_as_with_the_class():
    quick = quick_constructor(Affiliation)
    with pytest.raises(TypeError):
        quick()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        quick(text="x", nope=1)  # type: ignore[call-arg]
