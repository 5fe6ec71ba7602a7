"""The journals table, chosen from one row per record's journal.

One row per NLM Unique ID, whatever the order of the input: the values of the
record with the highest PMID (its newest, as PubMed numbers them). The bulk
path reduces its staged journal rows file by file; a build carried forward
from the night before gets the same rows from the articles table, which holds
every value of each article's journal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.load import schemas

# An articles column for each journals column.
ARTICLE_COLUMNS: dict[str, str] = {
    "nlm_id": "journal_nlm_id",
    "medline_ta": "journal",
    "iso_abbreviation": "journal_iso_abbreviation",
    "title": "journal_title",
    "issn_print": "issn_print",
    "issn_electronic": "issn_electronic",
    "issn_linking": "issn_linking",
    "country": "journal_country",
}


def unique_journals(parts: Iterable[pa.Table]) -> Iterator[pa.Table]:
    """The journals table from parts of journal rows (JOURNALS columns and pmid).

    Each part is reduced to its best row per journal first, so only some
    thousands of rows (one per journal and part) are ever held.
    """
    best: pa.Table | None = None
    for part in parts:
        candidates = best_per_journal(part)
        best = (
            candidates if best is None else best_per_journal(pa.concat_tables([best, candidates]))
        )
    if best is not None and best.num_rows:
        yield best.sort_by("nlm_id").select(schemas.JOURNALS.names).cast(schemas.JOURNALS)


def best_per_journal(rows: pa.Table) -> pa.Table:
    """The row of the highest PMID of each NLM ID."""
    if not rows.num_rows:
        return rows
    ordered = rows.sort_by([("nlm_id", "ascending"), ("pmid", "descending")])
    ids = ordered["nlm_id"].combine_chunks()
    first = np.ones(len(ids), bool)
    if len(ids) > 1:
        first[1:] = pc.not_equal(ids[1:], ids[:-1]).to_numpy(zero_copy_only=False)
    return ordered.filter(pa.array(first))


def journal_rows(articles: pa.Table) -> pa.Table:
    """Each article's journal, as journal rows: the articles with an NLM ID."""
    named = articles.filter(pc.is_valid(articles["journal_nlm_id"]))
    columns = {name: named[column] for name, column in ARTICLE_COLUMNS.items()}
    columns["pmid"] = named["pmid"]
    return pa.table(columns)


def journals_from_articles(articles: pa.Table) -> pa.Table:
    """The journals table of an articles table (empty when no article names one)."""
    for table in unique_journals([journal_rows(articles)]):
        return table
    return schemas.JOURNALS.empty_table()
