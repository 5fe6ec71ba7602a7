"""Explicit Arrow schemas of every table: nothing is inferred from data.

PMIDs and UIDs are int64; ranks, positions and years int32; list-valued
fields are Arrow lists (never delimited strings); missing is null.
The README's data dictionary documents each column.
"""

from __future__ import annotations

import pyarrow as pa

_str = pa.string()
_i32 = pa.int32()
_i64 = pa.int64()
_date = pa.date32()

CONCEPTS = pa.schema(
    [
        pa.field("cui", _str, nullable=False),
        pa.field("uid", _i64),
        pa.field("name", _str, nullable=False),
        pa.field("definition", _str),
        pa.field("definition_source", _str),
        pa.field("semantic_type", _str),
        pa.field("semantic_id", _str),
        pa.field("synonyms", pa.list_(_str), nullable=False),
        pa.field(
            "names",
            pa.list_(
                pa.struct(
                    [
                        pa.field("name", _str, nullable=False),
                        pa.field("source", _str),
                        pa.field("preferred", pa.bool_(), nullable=False),
                    ]
                )
            ),
            nullable=False,
        ),
        pa.field("db_build", _str),
        pa.field("omim", pa.list_(_str), nullable=False),
        pa.field("chromosome", _str),
        pa.field("cytogenetic", _str),
        pa.field("semantic_types", pa.list_(_str), nullable=False),
        pa.field("mesh_ids", pa.list_(_str), nullable=False),
    ]
)

# The logical citations table. On disk it is hive-partitioned by `category`
# (citations/category=<name>/), and the files hold every column but that one:
# pyarrow, pandas and DuckDB refuse a column that is both in the path and the
# file. Readers of the directory get `category` back from the path.
CITATIONS = pa.schema(
    [
        pa.field("cui", _str, nullable=False),
        pa.field("category", _str, nullable=False),
        pa.field("rank", _i32, nullable=False),
        pa.field("pmid", _i64, nullable=False),
        pa.field("title", _str),
        pa.field("journal", _str),
        pa.field("pub_year", _i32),
        pa.field("doi", _str),
        pa.field("doi_display", _str),
        pa.field("pmcid", _str),
        pa.field("authors_display", _str),
        pa.field("source", _str),
        pa.field("epub_date", _str),
        pa.field("retracted", pa.bool_(), nullable=False),
        pa.field("pub_date", _date),
        # Why the row is there: medgen_link, mesh, mesh_major (pipeline/transform/evidence.py).
        pa.field("evidence", pa.list_(_str), nullable=False),
    ]
)

CITATIONS_FILE = pa.schema([f for f in CITATIONS if f.name != "category"])

AUTHOR_STRUCT = pa.struct(
    [
        pa.field("position", _i32, nullable=False),
        pa.field("display", _str),
        pa.field("last_name", _str),
        pa.field("fore_name", _str),
        pa.field("initials", _str),
        pa.field("suffix", _str),
        pa.field("collective_name", _str),
        pa.field("orcid", _str),
    ]
)

ARTICLES = pa.schema(
    [
        pa.field("pmid", _i64, nullable=False),
        pa.field("pmid_version", _i32, nullable=False),
        pa.field("status", _str),
        pa.field("record_kind", _str, nullable=False),
        pa.field("title", _str),
        pa.field("vernacular_title", _str),
        pa.field("journal", _str),
        pa.field("journal_nlm_id", _str),
        pa.field("journal_iso_abbreviation", _str),
        pa.field("volume", _str),
        pa.field("issue", _str),
        pa.field("pages", _str),
        pa.field("pub_date_raw", _str),
        pa.field("pub_year", _i32),
        pa.field("pub_date_display", _str),
        pa.field("epub_date", _str),
        pa.field("doi", _str),
        pa.field("doi_display", _str),
        pa.field("doi_source", _str),
        pa.field("pmcid", _str),
        pa.field("publication_types", pa.list_(_str), nullable=False),
        pa.field("languages", pa.list_(_str), nullable=False),
        pa.field("author_list_complete", pa.bool_()),
        pa.field("authors", pa.list_(AUTHOR_STRUCT), nullable=False),
        pa.field("abstract", _str),
        pa.field("pub_date_start", _date),
        pa.field("pub_date_end", _date),
        pa.field("pub_date_precision", _str),
        pa.field("doi_alternate", _str),
        pa.field("doi_conflict", pa.bool_(), nullable=False),
        pa.field("doi_problem", _str),
        pa.field("book_title", _str),
        pa.field("book_accession", _str),
        pa.field("medline_status", _str),
        pa.field("publication_status", _str),
        pa.field("indexing_method", _str),
        pa.field("citation_subsets", pa.list_(_str), nullable=False),
        pa.field("pub_model", _str),
        pa.field("coi_statement", _str),
        pa.field("date_completed", _date),
        pa.field("date_revised", _date),
        pa.field("issn_print", _str),
        pa.field("issn_electronic", _str),
        pa.field("grant_list_complete", pa.bool_()),
        pa.field("publication_type_uis", pa.list_(_str), nullable=False),
        pa.field("retracted", pa.bool_(), nullable=False),
        pa.field("retraction_pmids", pa.list_(_i64), nullable=False),
        pa.field("erratum_pmids", pa.list_(_i64), nullable=False),
        pa.field("expression_of_concern", pa.bool_(), nullable=False),
        # The rest of the article's journal record: with journal, journal_nlm_id,
        # journal_iso_abbreviation and the ISSNs above, each article row holds all
        # of it, so the journals table can be chosen again from articles alone
        # (a snapshot carried forward to the next night keeps no other copy).
        pa.field("journal_title", _str),
        pa.field("issn_linking", _str),
        pa.field("journal_country", _str),
        # A digest of every other column of the row (pipeline/load/record_hash.py): a
        # record that changed between snapshots has another.
        pa.field("record_sha256", _str, nullable=False),
    ]
)
# The columns the digest is made of: every articles column before it.
ARTICLE_VALUES = pa.schema([f for f in ARTICLES if f.name != "record_sha256"])

# One row per person or group of an article: the same columns serve the
# authors, editors and investigators tables.
PEOPLE = pa.schema(
    [
        pa.field("pmid", _i64, nullable=False),
        pa.field("position", _i32, nullable=False),
        pa.field("last_name", _str),
        pa.field("fore_name", _str),
        pa.field("initials", _str),
        pa.field("suffix", _str),
        pa.field("collective_name", _str),
        pa.field("orcid", _str),
        pa.field("affiliations", pa.list_(_str), nullable=False),
        pa.field("valid", pa.bool_(), nullable=False),
        pa.field("equal_contrib", pa.bool_(), nullable=False),
        # Aligned with `affiliations`: the identifiers of each, and their sources.
        pa.field("affiliation_identifiers", pa.list_(pa.list_(_str)), nullable=False),
        pa.field("affiliation_identifier_sources", pa.list_(pa.list_(_str)), nullable=False),
        pa.field("orcid_source", _str),
    ]
)
AUTHORS = PEOPLE
EDITORS = PEOPLE
INVESTIGATORS = PEOPLE

JOURNALS = pa.schema(
    [
        pa.field("nlm_id", _str, nullable=False),
        pa.field("medline_ta", _str),
        pa.field("iso_abbreviation", _str),
        pa.field("title", _str),
        pa.field("issn_print", _str),
        pa.field("issn_electronic", _str),
        pa.field("issn_linking", _str),
        pa.field("country", _str),
    ]
)

# ---------------------------------------------------------------- a record's lists
# One row per item, in document order; `position` counts from 1 within the record.

_bool = pa.bool_()

MESH_QUALIFIER = pa.struct(
    [pa.field("ui", _str), pa.field("name", _str), pa.field("major", _bool, nullable=False)]
)

MESH_HEADINGS = pa.schema(
    [
        pa.field("pmid", _i64, nullable=False),
        pa.field("position", _i32, nullable=False),
        pa.field("descriptor_ui", _str),
        pa.field("descriptor_name", _str),
        pa.field("descriptor_major", _bool, nullable=False),
        pa.field("descriptor_type", _str),
        pa.field("qualifiers", pa.list_(MESH_QUALIFIER), nullable=False),
        pa.field("major", _bool, nullable=False),
    ]
)

SUPPLEMENTARY_CONCEPTS = pa.schema(
    [
        pa.field("pmid", _i64, nullable=False),
        pa.field("position", _i32, nullable=False),
        pa.field("ui", _str),
        pa.field("name", _str),
        pa.field("type", _str),
    ]
)

KEYWORDS = pa.schema(
    [
        pa.field("pmid", _i64, nullable=False),
        pa.field("position", _i32, nullable=False),
        pa.field("keyword", _str),
        pa.field("owner", _str),
        pa.field("major", _bool, nullable=False),
    ]
)

CHEMICALS = pa.schema(
    [
        pa.field("pmid", _i64, nullable=False),
        pa.field("position", _i32, nullable=False),
        pa.field("registry_number", _str),
        pa.field("substance_ui", _str),
        pa.field("substance_name", _str),
    ]
)

GRANTS = pa.schema(
    [
        pa.field("pmid", _i64, nullable=False),
        pa.field("position", _i32, nullable=False),
        pa.field("grant_id", _str),
        pa.field("acronym", _str),
        pa.field("agency", _str),
        pa.field("country", _str),
    ]
)

COMMENTS_CORRECTIONS = pa.schema(
    [
        pa.field("pmid", _i64, nullable=False),
        pa.field("position", _i32, nullable=False),
        pa.field("ref_type", _str),
        pa.field("ref_pmid", _i64),
        pa.field("ref_source", _str),
        pa.field("note", _str),
    ]
)

# Not "references": the word is reserved in SQL.
ARTICLE_REFERENCES = pa.schema(
    [
        pa.field("pmid", _i64, nullable=False),
        pa.field("position", _i32, nullable=False),
        pa.field("citation", _str),
        pa.field("cited_pmid", _i64),
        pa.field("cited_doi", _str),
        pa.field("cited_pmcid", _str),
    ]
)

HISTORY = pa.schema(
    [
        pa.field("pmid", _i64, nullable=False),
        pa.field("status", _str),
        pa.field("date", _date),
    ]
)

ARTICLE_IDS = pa.schema(
    [
        pa.field("pmid", _i64, nullable=False),
        pa.field("id_type", _str),
        pa.field("value", _str),
    ]
)

DATA_BANKS = pa.schema(
    [
        pa.field("pmid", _i64, nullable=False),
        pa.field("position", _i32, nullable=False),
        pa.field("name", _str),
        pa.field("accession", _str),
    ]
)

REJECTS = pa.schema(
    [
        pa.field("pmid", _i64),
        pa.field("reason", _str, nullable=False),
        pa.field("fragment_sha256", _str, nullable=False),
    ]
)

# What changed since the parent snapshot (pipeline/transform/changes.py), one row per
# concept, category and PMID that changed; sorted by cui, category, pmid.
CHANGES = pa.schema(
    [
        pa.field("cui", _str, nullable=False),
        pa.field("category", _str, nullable=False),
        pa.field("pmid", _i64, nullable=False),
        pa.field("change", _str, nullable=False),  # added, removed, modified, retracted
        pa.field("rank", _i32),  # this snapshot's; null when removed
        pa.field("previous_rank", _i32),  # the parent's; null when added
    ]
)

TABLES: dict[str, pa.Schema] = {
    "concepts": CONCEPTS,
    "citations": CITATIONS_FILE,
    "articles": ARTICLES,
    "authors": AUTHORS,
    "editors": EDITORS,
    "investigators": INVESTIGATORS,
    "journals": JOURNALS,
    "mesh_headings": MESH_HEADINGS,
    "supplementary_concepts": SUPPLEMENTARY_CONCEPTS,
    "keywords": KEYWORDS,
    "chemicals": CHEMICALS,
    "grants": GRANTS,
    "comments_corrections": COMMENTS_CORRECTIONS,
    "article_references": ARTICLE_REFERENCES,
    "history": HISTORY,
    "article_ids": ARTICLE_IDS,
    "data_banks": DATA_BANKS,
    "rejects": REJECTS,
    "changes": CHANGES,
}

# The tables a run may choose (--tables); concepts, rejects and changes are always written.
SELECTABLE = tuple(name for name in TABLES if name not in ("concepts", "rejects", "changes"))
# The thin, fastest set: what a MedGen page shows, without a record's long lists.
THIN = ("articles", "authors", "journals", "citations")
