from __future__ import annotations

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
