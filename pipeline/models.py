"""Typed records passed between the stages.

All records are frozen dataclasses. A missing value is ``None`` (never ``""``);
a list-valued field is always a tuple (possibly empty), never ``None`` or a
delimited string. Stages meet only through these types, in the runner.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # only annotations of MedgenInput: no import at run time
    from pathlib import Path

    import pyarrow as pa

    from pipeline.bulk.concept_files import ConceptFileReader

ConceptRefKind = Literal["uid", "cui", "name"]


@dataclass(frozen=True, slots=True)
class ConceptRef:
    """A concept as the user named it: a MedGen UID, a CUI, or a name."""

    kind: ConceptRefKind
    value: str

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class ConceptName:
    name: str
    source: str | None
    preferred: bool


@dataclass(frozen=True, slots=True)
class ConceptDefinition:
    text: str
    source: str | None


@dataclass(frozen=True, slots=True)
class ConceptCode:
    """One name of a concept in a source vocabulary (a ConceptMeta Name, an MGCONSO row)."""

    source: str | None  # SAB: OMIM, MSH, ORDO, GTR, HPO, MONDO, SNOMEDCT_US...
    code: str | None  # CODE
    source_id: str | None  # SDUI
    term_type: str | None  # TTY
    name: str
    preferred: bool


@dataclass(frozen=True, slots=True)
class ConceptGene:
    gene_id: int  # NCBI Gene
    symbol: str | None
    chromosome: str | None
    cytogenetic: str | None


@dataclass(frozen=True, slots=True)
class ConceptInheritance:
    mode_cui: str
    mode_name: str | None


@dataclass(frozen=True, slots=True)
class ConceptFeature:
    """A clinical feature (an HPO term) of a disorder."""

    feature_cui: str
    hpo_id: str | None  # HP:0001537
    name: str | None
    semantic_type: str | None


@dataclass(frozen=True, slots=True)
class ConceptRelation:
    relation: str  # RELA when given (has_manifestation, isa...), else REL (CHD, PAR, RO...)
    related_cui: str
    source: str | None


@dataclass(frozen=True, slots=True)
class Concept:
    # None: known only by its CUI (a bulk concept without links: NAMES.RRF has no UID).
    uid: int | None
    cui: str
    name: str
    definition: str | None
    definition_source: str | None
    semantic_type: str | None
    semantic_id: str | None
    names: tuple[ConceptName, ...] = ()
    definitions: tuple[ConceptDefinition, ...] = ()
    omim: tuple[str, ...] = ()  # MIM numbers
    chromosome: str | None = None
    cytogenetic: str | None = None
    semantic_types: tuple[str, ...] = ()
    mesh_ids: tuple[str, ...] = ()  # MeSH descriptor (D…) and supplementary concept (C…) ids
    codes: tuple[ConceptCode, ...] = ()
    genes: tuple[ConceptGene, ...] = ()
    inheritance: tuple[ConceptInheritance, ...] = ()
    features: tuple[ConceptFeature, ...] = ()
    relations: tuple[ConceptRelation, ...] = ()

    @property
    def synonyms(self) -> tuple[str, ...]:
        """Every distinct name but the title, in the order NCBI lists them."""
        seen = {self.name}
        out: list[str] = []
        for n in self.names:
            if n.name not in seen:
                seen.add(n.name)
                out.append(n.name)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Category:
    """One heading of a MedGen concept page and the PubMed filter behind it."""

    name: str
    heading: str
    term: str
    # The page's group heading above this one ("Recent clinical studies").
    group: str | None = None
    # The page's line under the heading naming the source tab ("PubMed").
    subheading: str | None = None


# ---------------------------------------------------------------- PubMed records


@dataclass(frozen=True, slots=True)
class Affiliation:
    """One ``AffiliationInfo``: its text and its ``Identifier`` values in order.

    ``identifier_sources`` is aligned with ``identifiers`` (``Source``, e.g.
    ``RINGGOLD``, ``ROR``; None when absent).
    """

    text: str
    identifiers: tuple[str, ...] = ()
    identifier_sources: tuple[str | None, ...] = ()


@dataclass(frozen=True, slots=True)
class Author:
    """One entry of an AuthorList, in order (``position`` starts at 1)."""

    position: int
    last_name: str | None
    fore_name: str | None
    initials: str | None
    suffix: str | None
    collective_name: str | None
    orcid: str | None
    affiliations: tuple[Affiliation, ...] = ()
    valid: bool = True
    equal_contrib: bool = False
    # Where the ORCID came from: "identifier" (the person's own Identifier) or
    # "affiliation" (an iD written inside an affiliation's text); None without one.
    orcid_source: str | None = None

    @property
    def is_collective(self) -> bool:
        return self.collective_name is not None

    @property
    def display(self) -> str | None:
        """``LastName Initials[ Suffix]`` for a person, the name for a group."""
        if self.collective_name is not None:
            return self.collective_name
        last, initials, suffix = self.last_name, self.initials, self.suffix
        if last and initials and not suffix:  # most people: no list to build
            return f"{last} {initials}"
        parts = [p for p in (last, initials, suffix) if p]
        return " ".join(parts) or None


@dataclass(frozen=True, slots=True)
class Journal:
    nlm_id: str | None
    medline_ta: str | None
    iso_abbreviation: str | None
    title: str | None
    issn_print: str | None
    issn_electronic: str | None
    issn_linking: str | None
    country: str | None = None

    @property
    def display(self) -> str | None:
        return self.medline_ta or self.iso_abbreviation or self.title


@dataclass(frozen=True, slots=True)
class PubDate:
    """The journal issue's PubDate, kept raw and as the page displays it.

    ``start``/``end`` are the first and last day the date can mean (both set or
    both None; start <= end) and ``precision`` says how it was given: ``day``,
    ``month``, ``season``, ``year`` or ``range`` (see pipeline/transform/dates.py).
    """

    raw: str | None
    year: int | None
    display: str | None
    start: datetime.date | None = None
    end: datetime.date | None = None
    precision: str | None = None


@dataclass(frozen=True, slots=True)
class MeshQualifier:
    ui: str | None
    name: str | None
    major: bool


@dataclass(frozen=True, slots=True)
class MeshHeading:
    """One ``MeshHeading``: its descriptor and qualifiers (``position`` from 1)."""

    position: int
    descriptor_ui: str | None
    descriptor_name: str | None
    descriptor_major: bool
    descriptor_type: str | None
    qualifiers: tuple[MeshQualifier, ...]
    # The descriptor or any of its qualifiers is a major topic.
    major: bool


@dataclass(frozen=True, slots=True)
class SupplementaryConcept:
    """One ``SupplMeshList/SupplMeshName`` (Disease, Protocol, Organism, ...)."""

    position: int
    ui: str | None
    name: str | None
    type: str | None


@dataclass(frozen=True, slots=True)
class Keyword:
    """One ``Keyword``; ``position`` counts across all of a record's KeywordLists."""

    position: int
    keyword: str | None
    owner: str | None
    major: bool


@dataclass(frozen=True, slots=True)
class Chemical:
    position: int
    registry_number: str | None
    substance_ui: str | None
    substance_name: str | None


@dataclass(frozen=True, slots=True)
class Grant:
    position: int
    grant_id: str | None
    acronym: str | None
    agency: str | None
    country: str | None


@dataclass(frozen=True, slots=True)
class CommentCorrection:
    """One ``CommentsCorrections`` link (``RetractionIn``, ``ErratumFor``, ...)."""

    position: int
    ref_type: str | None
    ref_pmid: int | None
    ref_source: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Reference:
    """One cited work of the ``ReferenceList`` (nested lists flattened in order)."""

    position: int
    citation: str | None
    cited_pmid: int | None
    cited_doi: str | None  # normalized key, as Article.doi
    cited_pmcid: str | None


@dataclass(frozen=True, slots=True)
class HistoryDate:
    """One ``History/PubMedPubDate``: a status (received, accepted, ...) and its day."""

    status: str | None
    date: datetime.date | None


@dataclass(frozen=True, slots=True)
class ArticleIdentifier:
    """One ``ArticleId`` of the record's own ``ArticleIdList`` (pubmed, doi, pii, pmc...)."""

    id_type: str | None
    value: str | None


@dataclass(frozen=True, slots=True)
class DataBankAccession:
    """One accession number of a ``DataBank`` (a bank without any: accession None)."""

    position: int
    name: str | None
    accession: str | None


# The CommentsCorrections types that say the record itself was corrected.
RETRACTION_IN = "RetractionIn"
ERRATUM_IN = "ErratumIn"
EXPRESSION_OF_CONCERN_IN = "ExpressionOfConcernIn"
RETRACTED_PUBLICATION = "Retracted Publication"


@dataclass(frozen=True, slots=True)
class Article:
    """One PubmedArticle (or PubmedBookArticle) as the pipeline keeps it."""

    pmid: int
    pmid_version: int
    status: str | None
    record_kind: Literal["article", "book"]
    title: str | None
    vernacular_title: str | None
    journal: Journal
    volume: str | None
    issue: str | None
    pages: str | None
    pub_date: PubDate
    epub_date: str | None
    doi: str | None
    doi_display: str | None
    doi_source: str | None
    pmcid: str | None
    publication_types: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    authors: tuple[Author, ...] = ()
    # None when the record has no AuthorList.
    author_list_complete: bool | None = None
    abstract: str | None = None
    # A second valid DOI that disagrees with ``doi`` (normalized key), and the flag.
    doi_alternate: str | None = None
    doi_conflict: bool = False
    # Why a DOI candidate was refused, naming the source and the value.
    doi_problem: str | None = None
    # AuthorList[@Type="editors"] and InvestigatorList, kept apart from the authors.
    editors: tuple[Author, ...] = ()
    investigators: tuple[Author, ...] = ()
    # Books only: Book/BookTitle and the ArticleId of IdType "bookaccession" (NBK…).
    book_title: str | None = None
    book_accession: str | None = None
    publication_status: str | None = None
    indexing_method: str | None = None
    citation_subsets: tuple[str, ...] = ()
    pub_model: str | None = None
    coi_statement: str | None = None
    date_completed: datetime.date | None = None
    date_revised: datetime.date | None = None
    # None when the record has no GrantList.
    grant_list_complete: bool | None = None
    # Aligned with publication_types: each one's MeSH UI (None when not given).
    publication_type_uis: tuple[str | None, ...] = ()
    mesh_headings: tuple[MeshHeading, ...] = ()
    supplementary_concepts: tuple[SupplementaryConcept, ...] = ()
    keywords: tuple[Keyword, ...] = ()
    chemicals: tuple[Chemical, ...] = ()
    grants: tuple[Grant, ...] = ()
    comments_corrections: tuple[CommentCorrection, ...] = ()
    references: tuple[Reference, ...] = ()
    history: tuple[HistoryDate, ...] = ()
    article_ids: tuple[ArticleIdentifier, ...] = ()
    data_banks: tuple[DataBankAccession, ...] = ()
    # Identifiers kept as published although malformed, each with its reason.
    id_problems: tuple[str, ...] = ()

    @property
    def retraction_pmids(self) -> tuple[int, ...]:
        """The PMIDs of the notices retracting this record (``RetractionIn``)."""
        return _linked(self.comments_corrections, RETRACTION_IN)

    @property
    def erratum_pmids(self) -> tuple[int, ...]:
        return _linked(self.comments_corrections, ERRATUM_IN)

    @property
    def retracted(self) -> bool:
        """A ``RetractionIn`` link, or the publication type "Retracted Publication"."""
        return RETRACTED_PUBLICATION in self.publication_types or any(
            c.ref_type == RETRACTION_IN for c in self.comments_corrections
        )

    @property
    def expression_of_concern(self) -> bool:
        return any(c.ref_type == EXPRESSION_OF_CONCERN_IN for c in self.comments_corrections)

    @property
    def authors_display(self) -> str | None:
        # filter(None, ...) drops None and "" as `if a.display` did, reading each display once.
        return ", ".join(filter(None, (a.display for a in self.authors))) or None


def _linked(links: tuple[CommentCorrection, ...], ref_type: str) -> tuple[int, ...]:
    return tuple(c.ref_pmid for c in links if c.ref_type == ref_type and c.ref_pmid is not None)


# ---------------------------------------------------------------- E-utilities answers


@dataclass(frozen=True, slots=True)
class SearchResult:
    count: int
    retstart: int
    ids: tuple[int, ...]
    webenv: str | None = None
    query_key: str | None = None
    phrases_not_found: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkHistory:
    """A concept's linked PubMed set on the history server (None: no links)."""

    uid: int
    webenv: str | None
    query_key: str | None
    # More PubMed terms ORed with the set (the concept's MeSH ids: --evidence mesh).
    also: str | None = None

    @property
    def empty(self) -> bool:
        return self.query_key is None and self.also is None

    @property
    def expression(self) -> str:
        """``#K``, or ``(#K OR also)`` (``(also)`` without links): what a filter is ANDed to."""
        parts = [f"#{self.query_key}"] if self.query_key is not None else []
        if self.also is None:
            return parts[0]
        return f"({' OR '.join([*parts, self.also])})"


@dataclass(frozen=True, slots=True)
class DbInfo:
    db: str
    db_build: str | None
    last_update: str | None
    count: int | None


@dataclass(frozen=True, slots=True)
class ConceptFailure:
    ref: str
    reason: str


@dataclass(frozen=True, slots=True)
class Reject:
    pmid: int | None
    reason: str
    fragment_sha256: str


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    """What one efetch body gave: articles, deletions and unreadable records."""

    articles: tuple[Article, ...] = ()
    deleted: tuple[int, ...] = ()
    rejects: tuple[Reject, ...] = ()
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class CitationRow:
    """One citation of a concept's category, at its rank, as the page prints it."""

    cui: str
    category: str
    rank: int
    pmid: int
    title: str | None
    journal: str | None
    pub_year: int | None
    doi: str | None
    doi_display: str | None
    pmcid: str | None
    authors_display: str | None
    source: str | None
    epub_date: str | None
    retracted: bool = False
    # The first day the publication date can mean, for "newest first" by real date.
    pub_date: datetime.date | None = None
    # medgen_link, mesh, mesh_major: see pipeline/transform/evidence.py (LINKED_ONLY).
    evidence: tuple[str, ...] = ("medgen_link",)


@dataclass(frozen=True, slots=True)
class MedgenInput:
    """What the MedGen bulk files gave for the requested concepts."""

    concepts: tuple[tuple[ConceptRef, Concept], ...]
    failures: tuple[ConceptFailure, ...]
    links: dict[str, tuple[int, ...]]  # CUI -> linked PMIDs
    # --all-concepts: every link as (cui, pmid) rows, distinct; ``links`` is then empty.
    link_table: pa.Table | None = None
    warnings: tuple[str, ...] = ()  # lines of the MedGen files that could not be read
    # The concept files (MGCONSO, MGREL...): the detail tables are read from them.
    details: ConceptFileReader | None = None
    sources: tuple[Path, ...] = ()  # every MedGen file read, for the manifest
