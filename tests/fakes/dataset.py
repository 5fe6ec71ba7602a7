"""What the fake E-utilities server knows: MedGen concepts, PubMed articles, links, filters.

A dataset is built either from a directory (``Dataset.from_dir``) or from Python values
(``Dataset(...)`` with ``FakeConcept`` and ``pubmed_article`` XML), so a test can state
exactly the few records it needs without shipping files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from tests.fakes.ncbi_xml import minimal_einfo, xml_text

# Any plausible build string: clients only echo it, never interpret it.
DEFAULT_DB_BUILD = "Build251127-0104.1"

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# (year, month, day) with 0 for a missing part, so a missing part sorts as the earliest.
PubDateKey = tuple[int, int, int]


def _parser() -> etree.XMLParser:
    # Same stance as pipeline.xmlsafe: never load a DTD, expand entities or touch the network.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _fragment(element: etree._Element) -> str:
    # with_tail=False: the whitespace after an element belongs to its parent's layout.
    return etree.tostring(element, encoding="unicode", with_tail=False)


# ------------------------------------------------------------------------- concepts


@dataclass(frozen=True, slots=True)
class FakeConcept:
    """One MedGen concept; ``raw_xml`` (a whole DocumentSummary) wins over the fields,
    ``concept_meta`` over the ConceptMeta made from them."""

    uid: int | str
    concept_id: str
    title: str
    definition: str = ""
    definition_source: str = "MedGen"
    synonyms: tuple[str, ...] = ()
    semantic_id: str = "T047"
    semantic_type: str = "Disease or Syndrome"
    modification_date: str = ""
    raw_xml: str | None = None
    # A whole ConceptMeta (unescaped XML: Names, Definitions, OMIM, ClinicalFeatures...),
    # served in place of the one made from the fields above.
    concept_meta: str | None = None
    # MeSH descriptor (D…) and supplementary concept (C…) ids, as SAB="MSH" names.
    mesh_ids: tuple[str, ...] = ()

    def document_summary(self) -> str:
        if self.raw_xml is not None:
            return self.raw_xml
        return _render_document_summary(self)


def _concept_meta(concept: FakeConcept) -> str:
    if concept.concept_meta is not None:
        return concept.concept_meta
    names = [f'<Name SAB="MedGen" TTY="PT" type="preferred">{xml_text(concept.title)}</Name>']
    names += [
        f'<Name SAB="MedGen" TTY="SY" type="syn">{xml_text(s)}</Name>' for s in concept.synonyms
    ]
    names += [
        f'<Name SAB="MSH" CODE="{xml_text(ui)}" SDUI="{xml_text(ui)}" TTY="{_mesh_tty(ui)}" '
        f'type="syn">{xml_text(concept.title)}</Name>'
        for ui in concept.mesh_ids
    ]
    definitions = ""
    if concept.definition:
        source = xml_text(concept.definition_source)
        definitions = f'<Definition source="{source}">{xml_text(concept.definition)}</Definition>'
    return f"<Names>{''.join(names)}</Names><Definitions>{definitions}</Definitions>"


def _mesh_tty(ui: str) -> str:
    # MGCONSO's term types: MH a descriptor's main heading, NM a supplementary concept's name.
    return "MH" if ui.startswith("D") else "NM"


def _render_document_summary(concept: FakeConcept) -> str:
    # Layout of eutils-json/esummary.medgen.xml: tab-indented children, ConceptMeta escaped.
    fields = [
        ("ConceptId", concept.concept_id),
        ("Title", concept.title),
        ("Definition", concept.definition),
        ("SemanticId", concept.semantic_id),
        ("SemanticType", concept.semantic_type),
        ("Suppressed", ""),
        ("ConceptMeta", _concept_meta(concept)),
        ("ModificationDate", concept.modification_date),
        ("Merged", ""),
    ]
    body = "".join(f"\t<{tag}>{xml_text(value)}</{tag}>\n" for tag, value in fields)
    return f'<DocumentSummary uid="{xml_text(str(concept.uid))}">\n{body}</DocumentSummary>'


def _concept_from_element(element: etree._Element, raw_xml: str) -> FakeConcept:
    return FakeConcept(
        uid=element.get("uid", ""),
        concept_id=element.findtext("ConceptId") or "",
        title=element.findtext("Title") or "",
        raw_xml=raw_xml,
    )


# ------------------------------------------------------------------------- articles


# An author: a CollectiveName, (last, fore), or (last, fore, orcid).
FakeAuthor = str | tuple[str, str] | tuple[str, str, str]


def _author_xml(author: FakeAuthor) -> str:
    if isinstance(author, str):
        return f'<Author ValidYN="Y"><CollectiveName>{xml_text(author)}</CollectiveName></Author>'
    last, fore = author[0], author[1]
    initials = "".join(part[0] for part in fore.split() if part)
    orcid = _optional(
        '<Identifier Source="ORCID">{}</Identifier>', author[2] if len(author) > 2 else None
    )
    return (
        f'<Author ValidYN="Y"><LastName>{xml_text(last)}</LastName>'
        f"<ForeName>{xml_text(fore)}</ForeName><Initials>{xml_text(initials)}</Initials>"
        f"{orcid}</Author>"
    )


def _pub_date_xml(
    year: int | None, month: int | None, day: int | None, medline_date: str | None
) -> str:
    if medline_date is not None:
        return f"<PubDate><MedlineDate>{xml_text(medline_date)}</MedlineDate></PubDate>"
    parts = f"<Year>{year}</Year>" if year is not None else ""
    parts += f"<Month>{_MONTHS[month - 1]}</Month>" if month is not None else ""
    parts += f"<Day>{day:02d}</Day>" if day is not None else ""
    return f"<PubDate>{parts}</PubDate>"


# MeSH UIs of common publication types; the DTD requires a UI attribute on each.
_PUBLICATION_TYPE_UIS = {
    "Journal Article": "D016428",
    "Review": "D016454",
    "Systematic Review": "D000078182",
    "Meta-Analysis": "D017418",
    "Guideline": "D016431",
    "Practice Guideline": "D017065",
    "Randomized Controlled Trial": "D016449",
    "Clinical Trial": "D016430",
    "Case Reports": "D002363",
}


def _optional(template: str, value: str | None) -> str:
    return template.format(xml_text(value)) if value else ""


def _publication_types_xml(types: Sequence[str]) -> str:
    def one(name: str) -> str:
        ui = _PUBLICATION_TYPE_UIS.get(name, "D000000")
        return f'<PublicationType UI="{ui}">{xml_text(name)}</PublicationType>'

    return f"<PublicationTypeList>{''.join(one(t) for t in types)}</PublicationTypeList>"


def _author_list_xml(authors: Sequence[FakeAuthor]) -> str:
    if not authors:
        return ""
    return f'<AuthorList CompleteYN="Y">{"".join(_author_xml(a) for a in authors)}</AuthorList>'


def pubmed_article(
    pmid: int,
    *,
    year: int | None = 2020,
    month: int | None = None,
    day: int | None = None,
    medline_date: str | None = None,
    title: str = "A synthetic article.",
    authors: Sequence[FakeAuthor] = (("Doe", "Jane"),),
    doi: str | None = None,
    journal: str = "Journal of Synthetic Tests",
    abstract: str | None = None,
    publication_types: Sequence[str] = ("Journal Article",),
    pmcid: str | None = None,
    mesh: Sequence[tuple[str, str, bool]] = (),
    supplementary: Sequence[tuple[str, str]] = (),
) -> str:
    """A minimal PubmedArticle valid against pubmed_250101.dtd, on one line as efetch sends it.

    An author is ``(last, fore)``, ``(last, fore, orcid)`` or a string (a CollectiveName).
    ``medline_date`` replaces Year/Month/Day, as NCBI does for irregular issues
    ("1998 Dec-1999 Jan"). A DOI goes in both ELocationID and ArticleIdList, where NCBI puts
    it; a PMC id in ArticleIdList. ``mesh``: MeSH headings as (descriptor UI, name, major);
    ``supplementary``: supplementary concepts as (UI, name), typed Disease.
    """
    pub_date = _pub_date_xml(year, month, day, medline_date)
    return (
        '<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM" IndexingMethod="Automated">'
        f'<PMID Version="1">{pmid}</PMID><Article PubModel="Print"><Journal>'
        f'<JournalIssue CitedMedium="Print">{pub_date}</JournalIssue>'
        f"<Title>{xml_text(journal)}</Title></Journal><ArticleTitle>{xml_text(title)}</ArticleTitle>"
        "<Pagination><MedlinePgn>1-2</MedlinePgn></Pagination>"
        + _optional('<ELocationID EIdType="doi" ValidYN="Y">{}</ELocationID>', doi)
        + _optional("<Abstract><AbstractText>{}</AbstractText></Abstract>", abstract)
        + _author_list_xml(authors)
        + f"<Language>eng</Language>{_publication_types_xml(publication_types)}</Article>"
        f"<MedlineJournalInfo><MedlineTA>{xml_text(journal)}</MedlineTA></MedlineJournalInfo>"
        + _mesh_xml(mesh, supplementary)
        + "</MedlineCitation><PubmedData><PublicationStatus>ppublish</PublicationStatus>"
        f'<ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId>'
        + _optional('<ArticleId IdType="doi">{}</ArticleId>', doi)
        + _optional('<ArticleId IdType="pmc">{}</ArticleId>', pmcid)
        + "</ArticleIdList></PubmedData></PubmedArticle>"
    )


def _mesh_xml(
    mesh: Sequence[tuple[str, str, bool]], supplementary: Sequence[tuple[str, str]]
) -> str:
    # The DTD's order: SupplMeshList before MeshHeadingList.
    suppl = "".join(
        f'<SupplMeshName Type="Disease" UI="{xml_text(ui)}">{xml_text(name)}</SupplMeshName>'
        for ui, name in supplementary
    )
    headings = "".join(
        f'<MeshHeading><DescriptorName UI="{xml_text(ui)}" MajorTopicYN="{"Y" if major else "N"}">'
        f"{xml_text(name)}</DescriptorName></MeshHeading>"
        for ui, name, major in mesh
    )
    return (f"<SupplMeshList>{suppl}</SupplMeshList>" if suppl else "") + (
        f"<MeshHeadingList>{headings}</MeshHeadingList>" if headings else ""
    )


def _month_number(text: str | None) -> int:
    if not text:
        return 0
    text = text.strip()
    if text.isdigit():
        return int(text)
    abbrev = text[:3].title()
    return _MONTHS.index(abbrev) + 1 if abbrev in _MONTHS else 0


def _int_or_zero(text: str | None) -> int:
    return int(text) if text and text.strip().isdigit() else 0


def pub_date_key(article: etree._Element) -> PubDateKey:
    """JournalIssue/PubDate as a sortable key; MedlineDate contributes its first year only."""
    pub_date = article.find("MedlineCitation/Article/Journal/JournalIssue/PubDate")
    if pub_date is None:
        pub_date = article.find("BookDocument/Book/PubDate")
    if pub_date is None:
        return (0, 0, 0)
    medline = pub_date.findtext("MedlineDate")
    if medline is not None:
        found = re.search(r"\d{4}", medline)
        return (int(found.group()) if found else 0, 0, 0)
    # Season ("Spring") carries no month: it sorts as a missing month.
    month = _month_number(pub_date.findtext("Month"))
    return (_int_or_zero(pub_date.findtext("Year")), month, _int_or_zero(pub_date.findtext("Day")))


def _article_pmid(article: etree._Element) -> int:
    text = article.findtext("MedlineCitation/PMID") or article.findtext("BookDocument/PMID")
    if text is None or not text.strip().isdigit():
        raise ValueError(f"article without a numeric PMID: {_fragment(article)[:120]}")
    return int(text)


@dataclass(frozen=True, slots=True)
class StoredArticle:
    pmid: int
    xml: str
    pub_date: PubDateKey
    # The UIs of its MeSH descriptors and supplementary concepts (what [mh] and [nm] search).
    descriptors: frozenset[str] = frozenset()
    supplementary: frozenset[str] = frozenset()


def _mesh_uis(article: etree._Element) -> tuple[frozenset[str], frozenset[str]]:
    def uis(path: str) -> frozenset[str]:
        return frozenset(e.get("UI", "") for e in article.iterfind(path)) - {""}

    return (
        uis("MedlineCitation/MeshHeadingList/MeshHeading/DescriptorName"),
        uis("MedlineCitation/SupplMeshList/SupplMeshName"),
    )


def parse_article(xml: str | bytes) -> StoredArticle:
    """One PubmedArticle (or PubmedBookArticle) fragment, kept verbatim for efetch."""
    text = (xml.decode("utf-8") if isinstance(xml, bytes) else xml).strip()
    element = etree.fromstring(text.encode("utf-8"), _parser())
    return StoredArticle(_article_pmid(element), text, pub_date_key(element), *_mesh_uis(element))


# MenuName per db, as einfo2.xml spells it.
_MENU_NAMES = {"pubmed": "PubMed", "medgen": "MedGen"}


class Dataset:
    """Everything the server answers from. Attributes stay mutable: a test may add links mid-run.

    ``concepts`` are ``FakeConcept`` values; ``articles`` are PubmedArticle XML fragments (see
    ``pubmed_article``) or already parsed ``StoredArticle`` values; ``links`` maps a MedGen uid
    to its medgen_pubmed PMIDs; ``filters`` maps a PubMed filter term to the PMIDs it matches;
    ``einfo`` maps a db name to a whole eInfoResult body (a minimal one is made when absent).
    """

    def __init__(
        self,
        concepts: Iterable[FakeConcept] = (),
        articles: Iterable[str | bytes | StoredArticle] = (),
        links: Mapping[int, Iterable[int]] | Mapping[str, Iterable[int]] | None = None,
        filters: Mapping[str, Iterable[int]] | None = None,
        *,
        einfo: Mapping[str, bytes] | None = None,
        db_build: str = DEFAULT_DB_BUILD,
    ) -> None:
        stored = [a if isinstance(a, StoredArticle) else parse_article(a) for a in articles]
        self.concepts: dict[str, FakeConcept] = {str(c.uid): c for c in concepts}
        self.articles: dict[int, StoredArticle] = {a.pmid: a for a in stored}
        self.links: dict[str, list[int]] = {
            str(k): [int(p) for p in v] for k, v in (links or {}).items()
        }
        self.filters: dict[str, frozenset[int]] = {
            k: frozenset(int(p) for p in v) for k, v in (filters or {}).items()
        }
        # PMID -> (year, month, day) PubMed last modified the record ([mdat]);
        # an article not named here was last modified long ago.
        self.modified: dict[int, tuple[int, int, int]] = {}
        self.db_build = db_build
        self.einfo: dict[str, bytes] = dict(einfo or {})
        for db, count in (("pubmed", len(self.articles)), ("medgen", len(self.concepts))):
            self.einfo.setdefault(db, minimal_einfo(db, _MENU_NAMES[db], count, db_build))

    @classmethod
    def from_dir(cls, path: str | Path) -> Dataset:
        """Read medgen.xml, pubmed.xml, links.json, filters.json, einfo-<db>.xml (all optional)."""
        root = Path(path)
        concepts, db_build = _read_medgen(root / "medgen.xml")
        einfo_files = {db: root / f"einfo-{db}.xml" for db in ("pubmed", "medgen")}
        return cls(
            concepts,
            _read_pubmed(root / "pubmed.xml"),
            _read_json(root / "links.json"),
            _read_json(root / "filters.json"),
            einfo={db: f.read_bytes() for db, f in einfo_files.items() if f.exists()},
            db_build=db_build,
        )


def _read_json(path: Path) -> dict[str, list[int]]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return {str(k): list(v) for k, v in data.items()}


def _raw_blocks(raw: bytes, elements: list[etree._Element], pattern: re.Pattern[str]) -> list[str]:
    """Each element's own bytes from the file, so it is served exactly as NCBI wrote it.

    Re-serializing would change details clients may trip over (``<Merged></Merged>`` becomes
    ``<Merged/>``, ``&quot;`` becomes ``"``). Falls back to serializing when the text scan and
    the parse disagree (a commented-out record, say).
    """
    blocks = [m.group() for m in pattern.finditer(raw.decode("utf-8"))]
    return blocks if len(blocks) == len(elements) else [_fragment(e) for e in elements]


_SUMMARY_BLOCK = re.compile(r"<DocumentSummary\b[^>]*>.*?</DocumentSummary>", re.DOTALL)
_ARTICLE_BLOCK = re.compile(r"<(PubmedArticle|PubmedBookArticle)\b[^>]*>.*?</\1>", re.DOTALL)


def _read_medgen(path: Path) -> tuple[list[FakeConcept], str]:
    if not path.exists():
        return [], DEFAULT_DB_BUILD
    raw = path.read_bytes()
    root = etree.fromstring(raw, _parser())
    summaries = list(root.iterfind("DocumentSummarySet/DocumentSummary"))
    blocks = _raw_blocks(raw, summaries, _SUMMARY_BLOCK)
    db_build = root.findtext("DocumentSummarySet/DbBuild") or DEFAULT_DB_BUILD
    return [_concept_from_element(e, b) for e, b in zip(summaries, blocks, strict=True)], db_build


def _read_pubmed(path: Path) -> list[StoredArticle]:
    if not path.exists():
        return []
    raw = path.read_bytes()
    root = etree.fromstring(raw, _parser())
    articles = [e for e in root if e.tag in ("PubmedArticle", "PubmedBookArticle")]
    blocks = _raw_blocks(raw, articles, _ARTICLE_BLOCK)
    return [
        StoredArticle(_article_pmid(e), b, pub_date_key(e), *_mesh_uis(e))
        for e, b in zip(articles, blocks, strict=True)
    ]
