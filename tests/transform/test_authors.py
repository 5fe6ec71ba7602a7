from __future__ import annotations

import pytest

from pipeline.models import Affiliation
from pipeline.transform.authors import (
    author_from_element,
    author_list,
    authors_from_list,
    editor_lists,
    editors_from_lists,
    investigators_from,
)
from tests.transform.builders import element


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (
            "<Author><LastName>Smith</LastName><ForeName>Jane</ForeName>"
            "<Initials>J</Initials></Author>",
            "Smith J",
        ),
        (
            "<Author><LastName>Artino</LastName><ForeName>Anthony R</ForeName>"
            "<Initials>AR</Initials><Suffix>Jr</Suffix></Author>",
            "Artino AR Jr",
        ),
        ("<Author><LastName>Plato</LastName></Author>", "Plato"),
        (
            "<Author><LastName>Le   Berichel</LastName><Initials> J </Initials></Author>",
            "Le Berichel J",
        ),
        (
            "<Author><CollectiveName>Canadian Respiratory <i>Research</i> Network"
            "</CollectiveName></Author>",
            "Canadian Respiratory Research Network",
        ),
        ("<Author/>", None),
    ],
)
def test_author_display_is_last_name_initials_suffix_or_group_name(xml: str, expected: str | None):
    assert author_from_element(element(xml), 1).display == expected


def test_collective_name_author_has_no_person_fields():
    xml = "<Author ValidYN='Y'><CollectiveName>GEMARA Study Group</CollectiveName></Author>"
    author = author_from_element(element(xml), 18)
    assert author.position == 18
    assert author.collective_name == "GEMARA Study Group"
    assert author.is_collective
    assert (author.last_name, author.fore_name, author.initials, author.suffix) == (None,) * 4


def test_names_are_nfc_normalized():
    xml = "<Author><LastName>Marti\u0301n</LastName><ForeName>Bele\u0301n</ForeName></Author>"
    author = author_from_element(element(xml), 1)
    assert (author.last_name, author.fore_name) == ("Mart\u00edn", "Bel\u00e9n")


@pytest.mark.parametrize(
    ("attrs", "valid", "equal_contrib"),
    [
        ("", True, False),
        ('ValidYN="Y"', True, False),
        ('ValidYN="N"', False, False),
        ('ValidYN="Y" EqualContrib="Y"', True, True),
        ('EqualContrib="N"', True, False),
    ],
)
def test_author_flags_come_from_valid_yn_and_equal_contrib(
    attrs: str, valid: bool, equal_contrib: bool
):
    author = author_from_element(element(f"<Author {attrs}><LastName>X</LastName></Author>"), 1)
    assert (author.valid, author.equal_contrib) == (valid, equal_contrib)


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ('<Identifier Source="ORCID">0000-0002-1825-0097</Identifier>', "0000-0002-1825-0097"),
        (
            '<Identifier Source="ORCID">https://orcid.org/0000-0002-1825-0097</Identifier>',
            "0000-0002-1825-0097",
        ),
        ('<Identifier Source="ORCID">0000000216942 33x</Identifier>', "0000-0002-1694-233X"),
        ('<Identifier Source="ORCID">0000-0002-1825-0098</Identifier>', None),
        ('<Identifier Source="ISNI">0000-0002-1825-0097</Identifier>', None),
        ("", None),
    ],
)
def test_author_orcid_is_read_from_orcid_identifier_only(identifier: str, expected: str | None):
    xml = f"<Author><LastName>X</LastName>{identifier}</Author>"
    assert author_from_element(element(xml), 1).orcid == expected


def test_affiliations_keep_text_and_identifiers_in_order():
    xml = """
    <Author><LastName>X</LastName>
      <AffiliationInfo>
        <Affiliation>Dept A,
          Univ B.</Affiliation>
        <Identifier Source="RINGGOLD">2348</Identifier>
        <Identifier Source="ROR">https://ror.org/00hj8s172</Identifier>
      </AffiliationInfo>
      <AffiliationInfo><Affiliation>Inst C.</Affiliation></AffiliationInfo>
      <AffiliationInfo><Affiliation> </Affiliation></AffiliationInfo>
    </Author>"""
    author = author_from_element(element(xml), 1)
    assert author.affiliations == (
        Affiliation("Dept A, Univ B.", ("2348", "https://ror.org/00hj8s172"), ("RINGGOLD", "ROR")),
        Affiliation("Inst C."),
    )


def test_affiliation_identifier_orcid_is_not_the_author_orcid():
    xml = """
    <Author><LastName>X</LastName>
      <AffiliationInfo><Affiliation>A</Affiliation>
        <Identifier Source="ORCID">0000-0002-1825-0097</Identifier></AffiliationInfo>
    </Author>"""
    assert author_from_element(element(xml), 1).orcid is None


def test_authors_keep_order_with_positions_from_one():
    xml = """<AuthorList><Author><LastName>B</LastName></Author>
      <Author><LastName>A</LastName></Author><Author ValidYN="N"><LastName>C</LastName></Author>
    </AuthorList>"""
    authors, complete = authors_from_list(element(xml))
    assert [(a.position, a.last_name, a.valid) for a in authors] == [
        (1, "B", True),
        (2, "A", True),
        (3, "C", False),
    ]
    assert complete


@pytest.mark.parametrize(
    ("attr", "expected"), [("", True), ('CompleteYN="Y"', True), ('CompleteYN="N"', False)]
)
def test_author_list_complete_comes_from_complete_yn(attr: str, expected: bool):
    _, complete = authors_from_list(element(f"<AuthorList {attr}/>"))
    assert complete is expected


def test_author_list_skips_the_editors_list():
    parent = element(
        """<Article><AuthorList Type="editors"><Author><LastName>Ed</LastName></Author>
        </AuthorList><AuthorList Type="authors"><Author><LastName>Au</LastName></Author>
        </AuthorList></Article>"""
    )
    found = author_list(parent)
    assert found is not None
    assert found.get("Type") == "authors"


def test_only_an_editors_list_means_no_authors():
    parent = element('<Book><AuthorList Type="editors"><Author/></AuthorList></Book>')
    assert author_list(parent) is None
    assert authors_from_list(None) == ((), None)  # no list: completeness unknown


@pytest.mark.parametrize(
    ("author", "orcid", "source"),
    [
        pytest.param(
            '<Identifier Source="ORCID">0000-0002-1825-0097</Identifier>'
            "<AffiliationInfo><Affiliation>Univ. ORCID: 0000-0002-1694-233X</Affiliation>"
            "</AffiliationInfo>",
            "0000-0002-1825-0097",
            "identifier",
            id="the person's own identifier wins over affiliation text",
        ),
        pytest.param(
            "<AffiliationInfo><Affiliation>Dept A, Univ B. ORCID: 0000-0002-1825-0097."
            "</Affiliation></AffiliationInfo>",
            "0000-0002-1825-0097",
            "affiliation",
            id="an ORCID labelled in the affiliation text is used when no identifier gives one",
        ),
        pytest.param(
            '<Identifier Source="ORCID">0000-0002-1825-0098</Identifier>'
            "<AffiliationInfo><Affiliation>Univ B, https://orcid.org/0000-0002-1694-233x"
            "</Affiliation></AffiliationInfo>",
            "0000-0002-1694-233X",
            "affiliation",
            id="a mistyped identifier falls back to an orcid.org URL in the affiliation",
        ),
        pytest.param(
            "<AffiliationInfo><Affiliation>Univ B. ORCID: 0000-0002-1825-0098</Affiliation>"
            "</AffiliationInfo>",
            None,
            None,
            id="a wrong check digit in affiliation text gives no ORCID",
        ),
    ],
)
def test_author_orcid_from_identifier_then_affiliation_text(
    author: str, orcid: str | None, source: str | None
):
    found = author_from_element(element(f"<Author><LastName>X</LastName>{author}</Author>"), 1)
    assert (found.orcid, found.orcid_source) == (orcid, source)


def test_editors_are_read_from_every_editors_list_in_order():
    book = element(
        """<BookDocument><Book>
          <AuthorList Type="editors"><Author><LastName>Adam</LastName><Initials>MP</Initials>
          </Author><Author><LastName>Feldman</LastName><Initials>J</Initials></Author></AuthorList>
        </Book>
        <AuthorList Type="authors"><Author><LastName>Pauli</LastName></Author></AuthorList>
        <AuthorList Type="editors"><Author><CollectiveName>Board</CollectiveName></Author>
        </AuthorList></BookDocument>"""
    )
    editors = editors_from_lists(editor_lists(book.find("Book"), book))
    assert [(e.position, e.display) for e in editors] == [
        (1, "Adam MP"),
        (2, "Feldman J"),
        (3, "Board"),
    ]


def test_investigators_keep_order_validity_ids_and_affiliations():
    citation = element(
        """<MedlineCitation><InvestigatorList>
          <Investigator ValidYN="Y"><LastName>Roe</LastName><ForeName>Ann</ForeName>
            <Initials>A</Initials>
            <Identifier Source="ORCID">http://orcid.org/0000-0002-1825-0097</Identifier>
            <AffiliationInfo><Affiliation>Site 1.</Affiliation>
              <Identifier Source="ROR">https://ror.org/00hj8s172</Identifier></AffiliationInfo>
          </Investigator>
          <Investigator ValidYN="N"><LastName>Doe</LastName><Initials>J</Initials></Investigator>
        </InvestigatorList></MedlineCitation>"""
    )
    roe, doe = investigators_from(citation)
    assert (roe.position, roe.display, roe.orcid, roe.valid) == (
        1,
        "Roe A",
        "0000-0002-1825-0097",
        True,
    )
    assert roe.affiliations == (Affiliation("Site 1.", ("https://ror.org/00hj8s172",), ("ROR",)),)
    assert (doe.position, doe.display, doe.valid) == (2, "Doe J", False)
    assert investigators_from(None, element("<MedlineCitation/>")) == ()
