"""Every new table agrees with a separate, simple reading of the real samples.

The reading below uses the standard library's ElementTree and plain paths, shares
no code with pipeline/transform, and is written from the PubMed DTD alone. Over
all real sample records, each table must agree on at least 99.5% of its fields;
the disagreements are printed (run with -s to see them).
"""

from __future__ import annotations

import datetime
import gzip
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.load import tables
from pipeline.transform.pubmed import parse_efetch
from tests.conftest import PUBMED_SAMPLE_GLOBS

AGREEMENT = 0.995
Row = tuple[Any, ...]


def _xml(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def _text(el: ET.Element | None) -> str | None:
    if el is None:
        return None
    return " ".join("".join(el.itertext()).split()) or None


def _attr(el: ET.Element | None, name: str) -> str | None:
    value = None if el is None else el.get(name)
    return value.strip() or None if value is not None else None


def _int(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


def _day(el: ET.Element | None) -> datetime.date | None:
    if el is None:
        return None
    months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    month = (el.findtext("Month") or "").strip()
    number = int(month) if month.isdigit() else months.index(month.lower()) + 1
    try:
        return datetime.date(int(el.findtext("Year") or ""), number, int(el.findtext("Day") or ""))
    except ValueError:
        return None


def _doi(text: str | None) -> str | None:
    text = re.sub(r"^(doi:\s*|https?://(dx\.)?doi\.org/)", "", (text or "").strip(), flags=re.I)
    return text.lower() if re.fullmatch(r"10\.\d{4,9}/\S+", text) else None


def _ids(parent: ET.Element | None, kind: str) -> str | None:
    if parent is None:
        return None
    for el in parent.findall("ArticleIdList/ArticleId"):
        if el.get("IdType") == kind:
            return (el.text or "").strip() or None
    return None


def independent(record: ET.Element) -> dict[str, list[Row]]:
    """One PubmedArticle's rows per table: (pmid, position or index, fields...)."""
    cit = record.find("MedlineCitation")
    assert cit is not None
    pmid = int(cit.findtext("PMID") or "")
    data = record.find("PubmedData")
    out: dict[str, list[Row]] = {}
    mesh = []
    for i, h in enumerate(cit.findall("MeshHeadingList/MeshHeading"), 1):
        d = h.find("DescriptorName")
        quals = [
            (_attr(q, "UI"), _text(q), q.get("MajorTopicYN") == "Y")
            for q in h.findall("QualifierName")
        ]
        d_major = d is not None and d.get("MajorTopicYN") == "Y"
        major = d_major or any(q[2] for q in quals)
        mesh.append((pmid, i, _attr(d, "UI"), _text(d), d_major, _attr(d, "Type"), quals, major))
    out["mesh_headings"] = mesh
    out["supplementary_concepts"] = [
        (pmid, i, _attr(s, "UI"), _text(s), _attr(s, "Type"))
        for i, s in enumerate(cit.findall("SupplMeshList/SupplMeshName"), 1)
    ]
    keywords = [
        (kl.get("Owner"), k) for kl in cit.findall("KeywordList") for k in kl.findall("Keyword")
    ]
    out["keywords"] = [
        (pmid, i, _text(k), owner, k.get("MajorTopicYN") == "Y")
        for i, (owner, k) in enumerate(keywords, 1)
    ]
    out["chemicals"] = [
        (
            pmid,
            i,
            _text(c.find("RegistryNumber")),
            _attr(c.find("NameOfSubstance"), "UI"),
            _text(c.find("NameOfSubstance")),
        )
        for i, c in enumerate(cit.findall("ChemicalList/Chemical"), 1)
    ]
    out["grants"] = [
        (pmid, i, *(_text(g.find(t)) for t in ("GrantID", "Acronym", "Agency", "Country")))
        for i, g in enumerate(cit.findall("Article/GrantList/Grant"), 1)
    ]
    out["comments_corrections"] = [
        (
            pmid,
            i,
            c.get("RefType"),
            _int(c.findtext("PMID")),
            _text(c.find("RefSource")),
            _text(c.find("Note")),
        )
        for i, c in enumerate(cit.findall("CommentsCorrectionsList/CommentsCorrections"), 1)
    ]
    refs = [] if data is None else list(data.iter("Reference"))
    out["article_references"] = [
        (
            pmid,
            i,
            _text(r.find("Citation")),
            _int(_ids(r, "pubmed")),
            _doi(_ids(r, "doi")),
            (lambda p: None if p is None else p if p.startswith("PMC") else "PMC" + p)(
                _ids(r, "pmc")
            ),
        )
        for i, r in enumerate(refs, 1)
    ]
    history = [] if data is None else data.findall("History/PubMedPubDate")
    out["history"] = [(pmid, i, h.get("PubStatus"), _day(h)) for i, h in enumerate(history, 1)]
    ids = [] if data is None else data.findall("ArticleIdList/ArticleId")
    out["article_ids"] = [
        (pmid, i, a.get("IdType"), (a.text or "").strip() or None) for i, a in enumerate(ids, 1)
    ]
    banks: list[Row] = []
    for bank in cit.findall("Article/DataBankList/DataBank"):
        accessions = [_text(n) for n in bank.findall("AccessionNumberList/AccessionNumber")]
        for acc in accessions or [None]:
            banks.append((pmid, len(banks) + 1, _text(bank.find("DataBankName")), acc))
    out["data_banks"] = banks
    out["articles"] = [_article(pmid, record, cit, data)]
    return out


def _article(pmid: int, record: ET.Element, cit: ET.Element, data: ET.Element | None) -> Row:
    article = cit.find("Article")
    assert article is not None
    links = cit.findall("CommentsCorrectionsList/CommentsCorrections")
    types = [t for t in article.findall("PublicationTypeList/PublicationType") if _text(t)]
    authors = [a for a in article.findall("AuthorList") if a.get("Type") != "editors"]
    grants = article.find("GrantList")
    issn = {i.get("IssnType"): (i.text or "").strip() for i in article.findall("Journal/ISSN")}
    pmc = _ids(data, "pmc")
    if pmc is None:
        for other in cit.findall("OtherID"):
            if other.get("Source") == "NLM" and (other.text or "").startswith("PMC"):
                pmc = (other.text or "").split()[0]
                break
    return (
        pmid,
        0,
        cit.get("Status"),
        None if data is None else _text(data.find("PublicationStatus")),
        cit.get("IndexingMethod"),
        [_text(s) for s in cit.findall("CitationSubset")],
        article.get("PubModel"),
        _text(cit.find("CoiStatement")),
        _day(cit.find("DateCompleted")),
        _day(cit.find("DateRevised")),
        issn.get("Print") or None,
        issn.get("Electronic") or None,
        None if grants is None else grants.get("CompleteYN", "Y") == "Y",
        [t.get("UI") for t in types],
        any(c.get("RefType") == "RetractionIn" for c in links)
        or any(_text(t) == "Retracted Publication" for t in types),
        [
            _int(c.findtext("PMID"))
            for c in links
            if c.get("RefType") == "RetractionIn" and _int(c.findtext("PMID"))
        ],
        [
            _int(c.findtext("PMID"))
            for c in links
            if c.get("RefType") == "ErratumIn" and _int(c.findtext("PMID"))
        ],
        any(c.get("RefType") == "ExpressionOfConcernIn" for c in links),
        None if not authors else authors[0].get("CompleteYN", "Y") == "Y",
        None if pmc is None else pmc if pmc.startswith("PMC") else "PMC" + pmc,
    )


ARTICLE_COLUMNS = (
    "medline_status",
    "publication_status",
    "indexing_method",
    "citation_subsets",
    "pub_model",
    "coi_statement",
    "date_completed",
    "date_revised",
    "issn_print",
    "issn_electronic",
    "grant_list_complete",
    "publication_type_uis",
    "retracted",
    "retraction_pmids",
    "erratum_pmids",
    "expression_of_concern",
    "author_list_complete",
    "pmcid",
)


def ours(data: bytes, pmids: set[int]) -> dict[str, list[Row]]:
    built = tables.article_tables(parse_efetch(data).articles, [])
    out: dict[str, list[Row]] = {}
    for path, table in built.items():
        name = path.split("/")[0]
        if name not in tables.LIST_TABLES and name != "articles":
            continue
        rows = [r for r in table.to_pylist() if r["pmid"] in pmids]
        if name == "articles":
            out[name] = [(r["pmid"], 0, *(r[c] for c in ARTICLE_COLUMNS)) for r in rows]
            continue
        seen: dict[int, int] = {}
        listed = []
        for r in rows:
            seen[r["pmid"]] = seen.get(r["pmid"], 0) + 1
            position = r.get("position", seen[r["pmid"]])
            values = [
                [(q["ui"], q["name"], q["major"]) for q in v] if k == "qualifiers" else v
                for k, v in r.items()
                if k not in ("pmid", "position")
            ]
            listed.append((r["pmid"], position, *values))
        out[name] = listed
    return out


def _records(samples: Path) -> Iterator[tuple[bytes, list[ET.Element]]]:
    for path in sorted({p for g in PUBMED_SAMPLE_GLOBS for p in samples.glob(g)}):
        data = _xml(path)
        if b"<PubmedArticleSet" not in data[:4096]:
            continue
        root = ET.fromstring(data)
        yield data, root.findall("PubmedArticle")


@pytest.mark.samples
def test_every_new_table_agrees_with_an_independent_reading_of_the_samples(samples):
    agree: dict[str, int] = {}
    total: dict[str, int] = {}
    problems: list[str] = []
    for data, records in _records(samples):
        theirs: dict[str, list[Row]] = {}
        for record in records:
            for name, rows in independent(record).items():
                theirs.setdefault(name, []).extend(rows)
        pmids = {r[0] for r in theirs.get("articles", [])}
        mine = ours(data, pmids)
        for name, rows in theirs.items():
            a = {r[:2]: r[2:] for r in rows}
            b = {r[:2]: r[2:] for r in mine.get(name, [])}
            for key in a.keys() | b.keys():
                left, right = a.get(key), b.get(key)
                width = len(left or right or ())
                total[name] = total.get(name, 0) + width
                if left is None or right is None:
                    problems.append(f"{name} {key}: only in {'ours' if left is None else 'theirs'}")
                    continue
                same = sum(x == y for x, y in zip(left, right, strict=True))
                agree[name] = agree.get(name, 0) + same
                if same < width:
                    problems.append(f"{name} {key}: theirs {left} ours {right}")
    for line in problems[:40]:
        print(line)
    assert set(total) == {*tables.LIST_TABLES, "articles"}
    rates = {name: agree.get(name, 0) / total[name] for name in total if total[name]}
    print({name: round(rate, 5) for name, rate in rates.items()}, total)
    assert all(total[name] > 0 for name in ("mesh_headings", "article_references", "history"))
    assert all(rate >= AGREEMENT for rate in rates.values()), rates
