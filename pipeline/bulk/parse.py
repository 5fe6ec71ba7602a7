"""One PubMed XML file (baseline or update, gzipped or not) to Parquet parts.

This is the unit of parallel work: a function of its arguments that reads one
file and writes one Parquet file per table into a work directory, streaming
(lxml ``iterparse``, each record cleared once read, so memory stays flat
whatever the file size) and building Arrow columns chunk by chunk.
"""

from __future__ import annotations

import gc
import gzip
import zlib
from collections.abc import Collection, Container, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import IO, cast

import pyarrow as pa
import pyarrow.parquet as pq
from isal import igzip
from lxml import etree

from pipeline.bulk.evidence import MESH_TABLES, MeshKeep, keeps_by_mesh
from pipeline.bulk.skim import Skimmer, skipped_for
from pipeline.errors import ResponseFormatError
from pipeline.extract.bulk_files import file_digest
from pipeline.load import schemas, tables
from pipeline.load.parquet import work_writer
from pipeline.models import Article, Reject
from pipeline.transform.citations import citation_row
from pipeline.transform.evidence import article_mesh
from pipeline.transform.pubmed import (
    RECORD_TAGS,
    FirstRecordPerPmid,
    UnreadableRecordError,
    article_from_element,
    citation_article,
    deleted_pmids,
    quick_pmid,
    reject_from,
)

DELETE = "DeleteCitation"
# The roots a PubMed file may have: today's, and MEDLINE's before 2017, whose
# records are bare MedlineCitation elements (read as a PubmedArticle without
# its PubmedData).
ROOTS = ("PubmedArticleSet", "MedlineCitationSet")
BARE = "MedlineCitation"
CHUNK = 2000
CITE_FIELDS = "citefields"

# Staging only (never published): what a citation row needs from its article,
# so the driver can build citations without holding Article objects.
CITE_FIELDS_SCHEMA = pa.schema(
    [
        *[f for f in schemas.CITATIONS_FILE if f.name not in ("cui", "rank", "evidence")],
        pa.field("pmid_version", pa.int32(), nullable=False),
        pa.field("sort_date", pa.date32()),
        pa.field("publication_types", pa.list_(pa.string()), nullable=False),
        # The record's MeSH ids (descriptors, supplementary concepts) and its major ones,
        # as mesh_headings and supplementary_concepts hold them: the MeSH evidence.
        pa.field("mesh_uis", pa.list_(pa.string()), nullable=False),
        pa.field("mesh_major_uis", pa.list_(pa.string()), nullable=False),
    ]
)


def cite_fields_table(articles: list[Article]) -> pa.Table:
    rows = [citation_row("", "", 0, a) for a in articles]
    mesh = [article_mesh(a) for a in articles]
    # attrgetter maps run in C: columns, not rows (see pipeline/load/tables.py).
    from_article = {
        "pmid_version": "pmid_version",
        "sort_date": "pub_date.start",
        "publication_types": "publication_types",
    }
    columns = {
        "mesh_uis": [list(uis) for uis, _ in mesh],
        "mesh_major_uis": [list(major) for _, major in mesh],
    }
    for f in CITE_FIELDS_SCHEMA:
        if f.name in from_article:
            columns[f.name] = list(map(attrgetter(from_article[f.name]), articles))
        elif f.name not in columns:
            columns[f.name] = list(map(attrgetter(f.name), rows))
    arrays = [pa.array(columns[f.name], type=f.type) for f in CITE_FIELDS_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=CITE_FIELDS_SCHEMA)


@dataclass(frozen=True, slots=True)
class FileParse:
    """What one worker made of one file; small enough to send back to the driver."""

    source: str
    index: int
    parts: dict[str, str]
    rows: dict[str, int]
    pmids: tuple[int, ...]
    versions: tuple[int, ...]
    deleted: tuple[int, ...]
    rejects: int  # unreadable records, with or without a readable PMID
    warnings: tuple[str, ...] = field(default=())
    rejected_pmids: tuple[int, ...] = ()  # the readable PMIDs of those records
    bytes: int | None = None  # the file's own size and sha256, as read
    sha256: str | None = None


def open_xml(path: Path) -> IO[bytes]:
    """A binary stream of the file's XML; ``.gz`` files are decompressed on the fly.

    isal's igzip is the gzip module's interface (same errors, CRC checked) over
    Intel's ISA-L inflate: about 2.8x zlib's speed, a tenth of a bulk parse.
    """
    if path.suffix == ".gz":
        # isal ships no annotations for its constructors.
        return cast(IO[bytes], igzip.open(path, "rb"))  # type: ignore[no-untyped-call]
    return path.open("rb")


def _records(stream: IO[bytes] | Skimmer) -> Iterator[etree._Element]:
    """Every record and DeleteCitation of the file, each cleared once read.

    A file whose root is neither of ROOTS is refused once read: it would
    otherwise give no record at all, silently.
    """
    # Same hardening as pipeline.xmlsafe: no DTD, no entities, no network.
    context = etree.iterparse(
        stream,
        events=("end",),
        tag=(*RECORD_TAGS, DELETE, BARE),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    try:
        for _, element in context:
            parent = element.getparent()
            if element.tag == BARE and (parent is None or parent.tag != ROOTS[1]):
                continue  # the MedlineCitation of a PubmedArticle: read with it
            yield element
            element.clear(keep_tail=False)
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        raise ResponseFormatError(f"not well-formed PubMed XML ({exc})") from exc
    root = context.root
    if root is None or root.tag not in ROOTS:
        name = "none" if root is None else repr(root.tag)
        raise ResponseFormatError(
            f"root element is {name}, not {' or '.join(ROOTS)}: not a PubMed file"
        )


class _PartWriter:
    """Appends chunks of records to one Parquet file per table."""

    def __init__(
        self, work_dir: Path, index: int, stack: ExitStack, selected: Collection[str]
    ) -> None:
        self.work_dir, self.index, self.stack = work_dir, index, stack
        # Journals are staged one row per record (see journal_rows_table).
        self.selected = frozenset(selected)
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.paths: dict[str, str] = {}
        self.rows: dict[str, int] = {}

    def write(self, articles: list[Article], rejects: list[Reject]) -> None:
        built = tables.article_tables(articles, rejects, self.selected - {"journals"})
        parts = {p.split("/", 1)[0]: t for p, t in built.items()}
        if "journals" in self.selected:
            parts["journals"] = tables.journal_rows_table(sorted(articles, key=_pmid))
        parts[CITE_FIELDS] = cite_fields_table(articles)
        for name, table in parts.items():
            self._writer(name, table.schema).write_table(table)
            self.rows[name] = self.rows.get(name, 0) + table.num_rows

    def _writer(self, name: str, schema: pa.Schema) -> pq.ParquetWriter:
        if name not in self.writers:
            path = self.work_dir / name / f"{self.index:06d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = work_writer(path, schema)  # lz4, checksummed
            self.stack.callback(writer.close)
            self.writers[name], self.paths[name] = writer, str(path)
        return self.writers[name]


_pmid = attrgetter("pmid")


def parse_file(
    path: str,
    index: int,
    work_dir: str,
    keep: Container[int] | None = None,
    selected: Collection[str] | None = None,
) -> FileParse:
    """Parse one file into ``work_dir/<table>/<index>.parquet``.

    ``keep``: only these PMIDs are written (None: all). Deletions are always
    reported, whatever ``keep`` says: they may undo an earlier file's record.
    ``selected``: the tables to write (None: all of schemas.SELECTABLE); the
    citation fields and rejects are always written.
    """
    # Records are acyclic (frozen dataclasses, strings, tuples): reference
    # counting frees them, and the cyclic collector would only spend time
    # walking tens of thousands of live objects per chunk.
    collecting = gc.isenabled()
    gc.disable()
    try:
        chosen = schemas.SELECTABLE if selected is None else tuple(selected)
        return _parse_file(Path(path), index, Path(work_dir), keep, chosen)
    except ResponseFormatError as exc:
        raise ResponseFormatError(f"{Path(path).name}: {exc}") from exc
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ResponseFormatError(f"{Path(path).name}: damaged gzip stream ({exc})") from exc
    finally:
        if collecting:
            gc.enable()


def _parse_file(
    path: Path,
    index: int,
    work_dir: Path,
    keep: Container[int] | None,
    selected: tuple[str, ...],
) -> FileParse:
    articles: list[Article] = []
    rejects: list[Reject] = []
    pmids: list[int] = []
    versions: list[int] = []
    deleted: list[int] = []
    warnings: list[str] = []
    first = FirstRecordPerPmid(path.name)
    rejected = 0
    rejected_pmids: list[int] = []
    with ExitStack() as stack:
        out = _PartWriter(work_dir, index, stack, selected)
        # The parser sees the file without the subtrees no selected table reads (skim.py).
        # MeSH evidence reads the MeSH lists, whatever tables are written.
        mesh = MESH_TABLES if isinstance(keep, MeshKeep) else ()
        skipped = skipped_for((*selected, *mesh))
        raw = stack.enter_context(open_xml(path))
        stream = Skimmer(raw, skipped=skipped) if skipped else raw
        for element in _records(stream):
            if element.tag == DELETE:
                deleted.extend(deleted_pmids(element)[0])
                continue
            quick = quick_pmid(element) if keep is not None else None
            asked = keep is None or quick is None or quick in keep
            if not asked and not keeps_by_mesh(keep, element):
                continue  # not asked for: skip the full read (most records, most runs)
            try:
                if element.tag == BARE:
                    article = citation_article(element)
                else:
                    article = article_from_element(element)
            except UnreadableRecordError as exc:
                rejects.append(reject := reject_from(element, exc))
                if reject.pmid is not None:
                    rejected_pmids.append(reject.pmid)
                rejected += 1
                continue
            if keep is not None and article.pmid not in keep and not keeps_by_mesh(keep, element):
                continue
            twice = first.admit(article.pmid)  # else both would survive the merge
            if twice is not None:
                warnings.append(twice)
                continue
            warnings.extend(article.id_problems)
            articles.append(article)
            pmids.append(article.pmid)
            versions.append(article.pmid_version)
            if len(articles) >= CHUNK:
                out.write(articles, rejects)
                articles, rejects = [], []
        if articles or rejects or not out.writers:
            out.write(articles, rejects)
    size, digest = file_digest(path)
    return FileParse(
        source=path.name,
        index=index,
        parts=dict(out.paths),
        rows=dict(out.rows),
        pmids=tuple(pmids),
        versions=tuple(versions),
        deleted=tuple(deleted),
        rejects=rejected,
        warnings=tuple(warnings),
        rejected_pmids=tuple(rejected_pmids),
        bytes=size,
        sha256=digest,
    )
