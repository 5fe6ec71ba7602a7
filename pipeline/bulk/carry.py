"""The current snapshot as the first "file" of a ``bulk --update``.

A full run folds every file in order (``merge.choose``); after the files a
snapshot lists, the survivors are exactly its articles, each with its version.
So the snapshot stands in for those files as one parse at index 0 (its PMIDs and
``pmid_version``s), the new files follow at the indices a full run gives them,
and the same fold decides what survives. Its rows are then read back, row group
by row group, and filtered as a file's part would be: a full run writes one row
group per file (see ``parquet.write_parquet_stream``), so keeping the snapshot's
row groups as they are gives the same file, byte for byte, when the snapshot was
written by the same medgen-etl and pyarrow (another writer may lay out the same
rows otherwise; the values are the same whatever wrote them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.bulk.merge import Winners, surviving_rows
from pipeline.bulk.parse import CITE_FIELDS_SCHEMA, FileParse
from pipeline.load import tables
from pipeline.load.journals import journal_rows
from pipeline.load.manifest import Manifest, PubmedFile
from pipeline.load.reader import PublishedSnapshot
from pipeline.load.snapshot import PART
from pipeline.transform.citations import source_string

INDEX = 0  # the snapshot's place in the fold: before every new file (they start at 1)
# Citation fields an articles column holds as it is.
_DIRECT = (
    *("pmid", "title", "journal", "pub_year", "doi", "doi_display", "pmcid", "epub_date"),
    *("retracted", "pmid_version", "publication_types"),
)
_ARTICLE_COLUMNS = [
    *_DIRECT,
    *("journal_iso_abbreviation", "journal_title", "pub_date_display", "volume", "issue"),
    *("pages", "authors", "pub_date_start"),
]
_MESH_COLUMNS = {
    "mesh_headings": ["pmid", "descriptor_ui", "major"],
    "supplementary_concepts": ["pmid", "ui"],
}


@dataclass(frozen=True, slots=True)
class Carried:
    snapshot: PublishedSnapshot
    parse: FileParse  # the snapshot's records, as one file's
    files: tuple[PubmedFile, ...]  # the files it was built from, as its manifest lists them
    mesh: bool  # --evidence mesh: the records' MeSH ids are read back too

    @property
    def manifest(self) -> Manifest:
        return self.snapshot.manifest

    def rows(self, name: str, winners: Winners) -> Iterator[pa.Table]:
        """The surviving rows of one table (a part table, ``journals`` or ``rejects``)."""
        if name == "journals":
            for part in self.rows("articles", winners):
                yield staged_journal_rows(part)
            return
        for part in self.snapshot.row_groups(f"{name}/{PART}"):
            yield surviving_rows(name, part, INDEX, winners)

    def rejected_pmids(self) -> set[int]:
        pmids: set[int] = set()
        for group in self.snapshot.row_groups(f"rejects/{PART}", ["pmid"]):
            pmids.update(p for p in group["pmid"].to_pylist() if p is not None)
        return pmids

    def cite_fields(self, winners: Winners) -> Iterator[pa.Table]:
        """The staged citation fields of the surviving records (see parse.cite_fields_table)."""
        uis = self._mesh_uis(winners) if self.mesh else {}
        for part in self.rows("articles", winners):
            yield cite_fields_from_articles(part, uis)

    def _mesh_uis(self, winners: Winners) -> dict[int, tuple[list[str], list[str]]]:
        """PMID -> its MeSH ids (descriptors, then supplementary concepts) and major ones."""
        out: dict[int, tuple[list[str], list[str]]] = {}
        for name, columns in _MESH_COLUMNS.items():
            for group in self.snapshot.row_groups(f"{name}/{PART}", columns):
                group = surviving_rows(name, group, INDEX, winners)
                ui = "descriptor_ui" if name == "mesh_headings" else "ui"
                major = group["major"].to_pylist() if "major" in columns else None
                for i, (pmid, value) in enumerate(
                    zip(group["pmid"].to_pylist(), group[ui].to_pylist(), strict=True)
                ):
                    if not value:
                        continue
                    uis, majors = out.setdefault(pmid, ([], []))
                    uis.append(value)
                    if major is not None and major[i]:
                        majors.append(value)
        return out


def carried(snapshot: PublishedSnapshot, files: tuple[PubmedFile, ...], mesh: bool) -> Carried:
    """The snapshot's surviving records (PMID, version) as the parse at INDEX."""
    pmids: list[int] = []
    versions: list[int] = []
    for group in snapshot.row_groups(f"articles/{PART}", ["pmid", "pmid_version"]):
        pmids.extend(group["pmid"].to_pylist())
        versions.extend(group["pmid_version"].to_pylist())
    parse = FileParse(
        source=snapshot.path.name,
        index=INDEX,
        parts={},
        rows={},
        pmids=tuple(pmids),
        versions=tuple(versions),
        deleted=(),
        rejects=0,
    )
    return Carried(snapshot, parse, files, mesh)


def with_old_deletions(winners: Winners, deleted: Iterable[int]) -> Winners:
    """``winners`` with the deletions the snapshot recorded that no new file undid."""
    gone = {p for p in deleted if p not in winners}
    return dataclasses.replace(winners, deleted=winners.deleted | gone)


def staged_journal_rows(articles: pa.Table) -> pa.Table:
    """The journal rows a parse stages (tables.JOURNAL_ROWS), from surviving articles."""
    named = articles.filter(pc.is_valid(articles["journal_nlm_id"]))
    rows = journal_rows(named).append_column("pmid_version", named["pmid_version"])
    return rows.cast(tables.JOURNAL_ROWS)


def cite_fields_from_articles(
    articles: pa.Table, mesh: Mapping[int, tuple[list[str], list[str]]]
) -> pa.Table:
    """CITE_FIELDS_SCHEMA rows of articles read back: what ``citation_row`` makes of
    each record (its display strings rebuilt as ``Article`` builds them)."""
    a = articles.select(_ARTICLE_COLUMNS).to_pydict()
    n = articles.num_rows
    source = [
        source_string(
            a["journal"][i] or a["journal_iso_abbreviation"][i] or a["journal_title"][i],
            a["pub_date_display"][i],
            a["volume"][i],
            a["issue"][i],
            a["pages"][i],
        )
        for i in range(n)
    ]
    authors = [
        ", ".join(filter(None, (x["display"] for x in people))) or None for people in a["authors"]
    ]
    no_mesh: tuple[list[str], list[str]] = ([], [])
    found = [mesh.get(p, no_mesh) for p in a["pmid"]]
    columns = {
        **{k: a[k] for k in _DIRECT},
        "authors_display": authors,
        "source": source,
        "pub_date": a["pub_date_start"],
        "sort_date": a["pub_date_start"],
        "mesh_uis": [uis for uis, _ in found],
        "mesh_major_uis": [major for _, major in found],
    }
    arrays = [pa.array(columns[f.name], type=f.type) for f in CITE_FIELDS_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=CITE_FIELDS_SCHEMA)
