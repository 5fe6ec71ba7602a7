"""parse_file: one PubMed file to Parquet parts; damage names the file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.bulk.parse import parse_file
from pipeline.errors import ResponseFormatError
from pipeline.load import schemas
from tests.bulk.test_skim import TRICKY


def write_gz(path: Path, data: bytes) -> str:
    path.write_bytes(gzip.compress(data))
    return str(path)


def test_a_gzipped_file_is_parsed_without_its_skipped_subtrees(tmp_path):
    path = write_gz(tmp_path / "pubmed99n0001.xml.gz", TRICKY)
    result = parse_file(path, 0, str(tmp_path / "w"), selected=schemas.THIN)
    assert "mesh_headings" not in result.parts
    assert result.pmids == (1,)
    articles = pq.read_table(result.parts["articles"]).to_pylist()
    assert articles[0]["title"] == "Kept title"


def test_a_truncated_gzip_file_is_a_format_error_naming_the_file(tmp_path):
    whole = gzip.compress(TRICKY)
    path = tmp_path / "pubmed99n0002.xml.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ResponseFormatError, match=r"pubmed99n0002\.xml\.gz: damaged gzip"):
        parse_file(str(path), 0, str(tmp_path / "w"))


def test_a_file_cut_inside_a_skipped_element_is_a_format_error_naming_the_file(tmp_path):
    cut = TRICKY[: TRICKY.index(b"<Reference>") + 5]
    path = write_gz(tmp_path / "pubmed99n0003.xml.gz", cut)
    with pytest.raises(ResponseFormatError, match=r"pubmed99n0003.*<ReferenceList> never closes"):
        # The thin set cuts reference lists, so the cut file is read by the skimmer.
        parse_file(path, 0, str(tmp_path / "w"), selected=schemas.THIN)


def test_malformed_xml_in_a_kept_element_is_a_format_error_naming_the_file(tmp_path):
    bad = TRICKY.replace(b"<ArticleTitle>", b"<ArticleTitle><b>")
    path = tmp_path / "pubmed99n0004.xml"
    path.write_bytes(bad)
    with pytest.raises(ResponseFormatError, match=r"pubmed99n0004\.xml: not well-formed"):
        parse_file(str(path), 0, str(tmp_path / "w"))


def test_a_pmid_twice_in_one_file_keeps_its_first_record_and_says_so(tmp_path):
    record = TRICKY[TRICKY.index(b"<PubmedArticle>") : TRICKY.index(b"</PubmedArticleSet>")]
    again = record.replace(b"Kept <i>title</i>", b"Second title")
    data = TRICKY.replace(b"</PubmedArticleSet>", again + b"</PubmedArticleSet>")
    result = parse_file(write_gz(tmp_path / "pubmed99n0005.xml.gz", data), 0, str(tmp_path / "w"))
    assert result.pmids == (1,)
    assert [r["title"] for r in pq.read_table(result.parts["articles"]).to_pylist()] == [
        "Kept title"
    ]
    assert result.warnings == ("pubmed99n0005.xml.gz: PMID 1 appears again; kept the first",)


# MEDLINE's files before 2017 (medsamp*.xml, medline*.xml): bare MedlineCitation
# records under a MedlineCitationSet root. Written by hand in that layout.
MEDLINE_SET = b"""<?xml version="1.0"?>
<MedlineCitationSet>
<MedlineCitation Owner="NLM" Status="MEDLINE"><PMID Version="1">10000001</PMID>
<Article PubModel="Print"><Journal><JournalIssue><PubDate><Year>1999</Year></PubDate>
</JournalIssue></Journal><ArticleTitle>Old format.</ArticleTitle>
<PublicationTypeList><PublicationType>Journal Article</PublicationType></PublicationTypeList>
</Article><MedlineJournalInfo><MedlineTA>J Old</MedlineTA><NlmUniqueID>0000001</NlmUniqueID>
</MedlineJournalInfo><MeshHeadingList><MeshHeading><DescriptorName MajorTopicYN="N">Humans
</DescriptorName></MeshHeading></MeshHeadingList></MedlineCitation>
<DeleteCitation><PMID Version="1">10000002</PMID></DeleteCitation>
</MedlineCitationSet>
"""


def test_a_medline_citation_set_is_read_as_that_format(tmp_path):
    result = parse_file(write_gz(tmp_path / "medline16n0001.xml.gz", MEDLINE_SET), 0, str(tmp_path))
    assert (result.pmids, result.deleted) == ((10000001,), (10000002,))
    [article] = pq.read_table(result.parts["articles"]).to_pylist()
    assert (article["title"], article["journal"], article["pub_year"]) == (
        "Old format.",
        "J Old",
        1999,
    )
    mesh = pq.read_table(result.parts["mesh_headings"]).to_pylist()
    assert [m["descriptor_name"] for m in mesh] == ["Humans"]


@pytest.mark.parametrize("selected", [None, schemas.THIN])
def test_a_file_of_another_root_is_refused_naming_the_file_never_read_as_empty(tmp_path, selected):
    other = b"<eSearchResult><Count>0</Count><PubmedArticle/></eSearchResult>"
    path = write_gz(tmp_path / "pubmed99n0009.xml.gz", other)
    with pytest.raises(
        ResponseFormatError, match=r"pubmed99n0009\.xml\.gz: root element is 'eSearchResult'"
    ):
        parse_file(path, 0, str(tmp_path / "w"), selected=selected)
