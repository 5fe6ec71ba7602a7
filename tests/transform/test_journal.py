from __future__ import annotations

import pytest

from pipeline.models import Journal
from pipeline.transform.journal import journal_from_citation
from tests.transform.builders import element


def test_journal_fields_come_from_journal_and_medline_journal_info():
    citation = element(
        """<MedlineCitation><Article><Journal>
          <ISSN IssnType="Print">0028-4793</ISSN><ISSN IssnType="Electronic">1533-4406</ISSN>
          <Title>The New England journal of medicine</Title>
          <ISOAbbreviation>N Engl J Med</ISOAbbreviation></Journal></Article>
        <MedlineJournalInfo><Country>United States</Country><MedlineTA>N Engl J Med</MedlineTA>
          <NlmUniqueID>0255562</NlmUniqueID><ISSNLinking>0028-4793</ISSNLinking>
        </MedlineJournalInfo></MedlineCitation>"""
    )
    assert journal_from_citation(citation) == Journal(
        nlm_id="0255562",
        medline_ta="N Engl J Med",
        iso_abbreviation="N Engl J Med",
        title="The New England journal of medicine",
        issn_print="0028-4793",
        issn_electronic="1533-4406",
        issn_linking="0028-4793",
        country="United States",
    )


def test_journal_issn_with_wrong_check_digit_is_none():
    citation = element(
        """<MedlineCitation><Article><Journal><ISSN IssnType="Print">0028-4794</ISSN>
        <ISSN IssnType="Electronic">2434-561x</ISSN></Journal></Article></MedlineCitation>"""
    )
    journal = journal_from_citation(citation)
    assert (journal.issn_print, journal.issn_electronic) == (None, "2434-561X")


def test_journal_of_missing_citation_is_all_none():
    journal = journal_from_citation(None)
    assert journal.display is None
    assert journal.nlm_id is None


@pytest.mark.parametrize(
    ("medline_ta", "iso", "title", "expected"),
    [
        ("N Engl J Med", "N. Engl. J. Med.", "The New England journal", "N Engl J Med"),
        (None, "N. Engl. J. Med.", "The New England journal", "N. Engl. J. Med."),
        (None, None, "The New England journal", "The New England journal"),
        (None, None, None, None),
    ],
)
def test_journal_display_falls_back_from_medline_ta_to_iso_abbreviation_to_title(
    medline_ta: str | None, iso: str | None, title: str | None, expected: str | None
):
    journal = Journal(
        nlm_id="0255562",
        medline_ta=medline_ta,
        iso_abbreviation=iso,
        title=title,
        issn_print=None,
        issn_electronic=None,
        issn_linking=None,
    )
    assert journal.display == expected


@pytest.mark.parametrize(
    ("issns", "linking", "expected"),
    [
        (
            '<ISSN IssnType="Print">0028-4793</ISSN>',
            "0028-4793",
            ("0028-4793", None, "0028-4793"),
        ),
        (
            '<ISSN IssnType="Electronic">1533-4406</ISSN>',
            "00284793",
            (None, "1533-4406", "0028-4793"),
        ),
        ('<ISSN IssnType="Undetermined">0028-4793</ISSN>', None, (None, None, None)),
        ('<ISSN IssnType="Print">0028-4793</ISSN>', "0028-4794", ("0028-4793", None, None)),
    ],
)
def test_journal_issns_are_read_by_issn_type_and_linking_issn_is_checked(
    issns: str, linking: str | None, expected: tuple[str | None, str | None, str | None]
):
    linking_el = f"<ISSNLinking>{linking}</ISSNLinking>" if linking else ""
    citation = element(
        f"""<MedlineCitation><Article><Journal>{issns}</Journal></Article>
        <MedlineJournalInfo><NlmUniqueID>0255562</NlmUniqueID>{linking_el}</MedlineJournalInfo>
        </MedlineCitation>"""
    )
    journal = journal_from_citation(citation)
    assert (journal.issn_print, journal.issn_electronic, journal.issn_linking) == expected
