"""The skimmer: what the parser sees is the full tree minus the skipped subtrees."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from pipeline.bulk.parse import _records
from pipeline.bulk.skim import SKIPPED, Skimmer, skipped_for
from pipeline.errors import ResponseFormatError
from pipeline.load import schemas
from pipeline.load.tables import article_tables
from pipeline.transform.citations import citation_row
from pipeline.transform.pubmed import article_from_element, parse_efetch
from tests.conftest import DEMO_DATASET, PUBMED_SAMPLE_GLOBS, ROOT

# Every case the byte scanner must get right, in one document: nested and
# empty skipped elements, ">" inside an attribute value, a name that only
# starts like a skipped one, and comments, CDATA and PIs that hide tags.
TRICKY = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle//EN" "pubmed.dtd">
<!-- <ReferenceList> in a comment before the root -->
<PubmedArticleSet>
<PubmedArticle>
  <MedlineCitation Status="MEDLINE">
    <PMID Version="1">1</PMID>
    <Article><ArticleTitle>Kept <i>title</i></ArticleTitle>
      <GrantList CompleteYN="Y" Note="a > b"><Grant><GrantID>G1</GrantID></Grant></GrantList>
      <Abstract><AbstractText>x &lt;ReferenceList&gt; y</AbstractText></Abstract>
    </Article>
    <KeywordList Owner="NOTNLM"/>
    <!-- a comment naming <MeshHeadingList> among kept elements -->
    <HistoryNote>kept: only its name starts like History</HistoryNote>
    <MeshHeadingList><MeshHeading><DescriptorName>D</DescriptorName></MeshHeading>
    </MeshHeadingList >
  </MedlineCitation>
  <PubmedData>
    <History><PubMedPubDate PubStatus="entrez"><Year>2020</Year></PubMedPubDate></History>
    <?pi <History> in a processing instruction ?>
    <ArticleIdList><ArticleId IdType="pubmed">1</ArticleId></ArticleIdList>
    <ReferenceList><Title>Refs</Title>
      <Reference><Citation>A</Citation><!-- </ReferenceList> in a comment --></Reference>
      <ReferenceList><Reference><Citation>Nested</Citation></Reference></ReferenceList>
      <ReferenceList/>
      <Reference><Citation><![CDATA[</ReferenceList> in CDATA]]></Citation></Reference>
    </ReferenceList>
  </PubmedData>
</PubmedArticle>
</PubmedArticleSet>
"""


def skim(data: bytes, read_size: int = 1 << 16) -> bytes:
    skimmer = Skimmer(io.BytesIO(data), read_size=read_size)
    return b"".join(iter(skimmer.read, b""))


def canonical(root: etree._Element) -> bytes:
    """The tree with whitespace-only text and every tail dropped (cutting keeps tails)."""
    for el in root.iter():
        el.tail = None
        if el.text is not None and not el.text.strip():
            el.text = None
    return etree.tostring(root)


def without_skipped(data: bytes) -> bytes:
    root = etree.fromstring(data)
    for el in list(root.iter(*SKIPPED)):
        parent = el.getparent()
        if parent is not None and el in list(parent):
            parent.remove(el)
    return canonical(root)


def test_skimmed_tricky_document_parses_to_the_full_tree_without_skipped_elements():
    got = skim(TRICKY)
    assert canonical(etree.fromstring(got)) == without_skipped(TRICKY)
    assert b"Nested" not in got
    assert b"a > b" not in got
    assert b"HistoryNote" in got


@settings(max_examples=60, deadline=None)
@given(read_size=st.integers(min_value=1, max_value=300))
def test_skimming_gives_the_same_bytes_whatever_the_read_size(read_size):
    assert skim(TRICKY, read_size) == skim(TRICKY)


def test_a_doctype_with_an_internal_subset_turns_cutting_off():
    data = TRICKY.replace(b'"pubmed.dtd">', b'"pubmed.dtd" [ <!ENTITY r "x"> ]>')
    assert skim(data, 5) == data


def test_a_skipped_element_that_never_closes_is_a_format_error():
    data = b"<PubmedArticleSet><PubmedArticle><ReferenceList><Reference>"
    with pytest.raises(ResponseFormatError, match="<ReferenceList> never closes"):
        skim(data)


def test_a_skipped_element_nested_in_its_own_kind_fails_the_parse_loudly():
    # No DTD lets a MeshHeadingList hold another: the cut ends at the inner
    # end tag, and the parser refuses the outer one left behind.
    nested = TRICKY.replace(
        b"<MeshHeadingList><MeshHeading>",
        b"<MeshHeadingList><MeshHeadingList/><MeshHeadingList>x</MeshHeadingList><MeshHeading>",
    )
    with pytest.raises(ResponseFormatError, match="not well-formed"):
        list(_records(Skimmer(io.BytesIO(nested))))


def test_a_file_cut_in_a_kept_element_still_fails_the_parse():
    cut = TRICKY[: TRICKY.index(b"<ArticleIdList>") + 20]
    with pytest.raises(ResponseFormatError, match="not well-formed"):
        list(_records(Skimmer(io.BytesIO(cut))))


def test_the_skimmer_counts_what_it_cut():
    skimmer = Skimmer(io.BytesIO(TRICKY))
    kept = len(b"".join(iter(skimmer.read, b"")))
    assert skimmer.skipped_bytes == len(TRICKY) - kept > 0


def records_read_both_ways(data: bytes) -> None:
    """The efetch path (whole tree) and the bulk path (stream skimmed for the thin
    table set) give the same thin tables."""
    whole = parse_efetch(data)
    skimmed = []
    stream = Skimmer(io.BytesIO(data), read_size=4096, skipped=skipped_for(schemas.THIN))
    for el in _records(stream):
        if el.tag != "DeleteCitation":
            skimmed.append(article_from_element(el))
    assert [a.pmid for a in skimmed] == [a.pmid for a in whole.articles]
    assert article_tables(skimmed, [], schemas.THIN) == article_tables(
        whole.articles, [], schemas.THIN
    )
    rows = [citation_row("C1", "c", 1, a) for a in skimmed]
    assert rows == [citation_row("C1", "c", 1, a) for a in whole.articles]


def test_the_thin_set_skims_the_long_lists_and_keeps_what_articles_read():
    cut = skipped_for(schemas.THIN)
    assert {"ReferenceList", "MeshHeadingList", "History"} <= set(cut)
    assert "GrantList" not in cut
    assert "CommentsCorrectionsList" not in cut
    # With every table, only rare lists are left to cut: not worth a scan.
    assert skipped_for(schemas.SELECTABLE) == ()


def test_the_demo_records_read_the_same_skimmed_or_whole():
    records_read_both_ways((DEMO_DATASET / "pubmed.xml").read_bytes())


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (ROOT / "tests/transform/fixtures").glob("*.xml"))
)
def test_the_fixture_records_read_the_same_skimmed_or_whole(name):
    records_read_both_ways((ROOT / "tests/transform/fixtures" / name).read_bytes())


def _sample_files(samples: Path) -> list[Path]:
    return sorted({p for g in PUBMED_SAMPLE_GLOBS for p in samples.glob(g)})


@pytest.mark.samples
def test_every_real_sample_reads_the_same_skimmed_or_whole(samples):
    files = _sample_files(samples)
    assert files
    cut = 0
    for path in files:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        if b"<PubmedArticle" not in data:
            continue
        records_read_both_ways(data)
        cut += len(data) - len(skim(data))
    assert cut > 0  # the real files do carry subtrees that are skipped
