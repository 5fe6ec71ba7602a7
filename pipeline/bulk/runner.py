"""The bulk build: MedGen and PubMed files in, the same tables as ``build`` out.

    links (+ names, definitions) -> concepts and their linked PMIDs
    PubMed XML files -> parse workers (process pool or Dask) -> Parquet parts
    parts -> the record of each PMID that survives the updates (merge)
    categories: by E-utilities searches (online) or publication types (offline)
    -> staged snapshot -> publish

Accounting is the same as ``build``: requested = loaded + rejected + missing,
where requested is every PMID the citations ask for.

``--update`` parses only the files the current snapshot does not list; the
snapshot stands in for the others (update.py decides whether it may, carry.py
reads it back).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from pipeline import wiring
from pipeline.bulk.carry import Carried, carried, with_old_deletions
from pipeline.bulk.citations import category_slices, order_links, select_category, type_flags
from pipeline.bulk.concept_files import ConceptFileReader, detail_parts, detail_warnings
from pipeline.bulk.evidence import (
    MeshKeep,
    concept_pmids,
    hit_marks,
    index_by_mesh,
    wanted_mesh_ids,
)
from pipeline.bulk.executors import make_executor
from pipeline.bulk.merge import Winners, choose, surviving_rows
from pipeline.bulk.parse import CITE_FIELDS, CITE_FIELDS_SCHEMA, FileParse, parse_file
from pipeline.bulk.pmidset import PmidSet
from pipeline.bulk.update import UPDATE_MODE, plan_update
from pipeline.config import Settings, categories_hash
from pipeline.errors import PartialRunError, UsageError
from pipeline.extract.client import CategorySearch, EutilsClient
from pipeline.extract.evidence import search_with_evidence
from pipeline.extract.input_digests import InputDigests
from pipeline.load import layout, schemas, tables
from pipeline.load.journals import unique_journals
from pipeline.load.layout import WORK_PREFIX, claim_output, make_dir
from pipeline.load.manifest import (
    EUTILS_MODE,
    OFFLINE_MODE,
    Bulk,
    Categories,
    CategoryCount,
    ConceptFileCount,
    ConceptFiles,
    Concepts,
    Manifest,
    Pmids,
    PubmedFile,
    read_manifest,
)
from pipeline.load.parquet import read_parquet
from pipeline.load.snapshot import SnapshotWriter
from pipeline.models import Category, DbInfo, MedgenInput
from pipeline.publish import (
    RunStart,
    found_concepts,
    library_versions,
    medgen_files,
    publish_snapshot,
    releases,
    response_entries,
    start_run,
)
from pipeline.transform import evidence
from pipeline.transform.pubmed import parse_efetch, unasked_warning

log = logging.getLogger(__name__)

# Offline, the PubMed filters (search-engine features) are out of reach: these
# categories come from publication types alone, and the manifest says so.
OFFLINE_CATEGORIES = (
    Category("linked", "All linked citations", "every PMID linked to the concept"),
    Category(
        "professional_guidelines",
        "Professional guidelines",
        "publication type Guideline or Practice Guideline",
    ),
    Category(
        "systematic_reviews",
        "Recent systematic reviews",
        "publication type Systematic Review or Meta-Analysis",
    ),
)
_OFFLINE_TYPES = {
    "professional_guidelines": frozenset({"Guideline", "Practice Guideline"}),
    "systematic_reviews": frozenset({"Systematic Review", "Meta-Analysis"}),
}
_FILE_NUMBER = re.compile(r"n(\d+)\.xml(\.gz)?$")
# Tables written from the parse parts, in snapshot order.
PART_TABLES = (*(t for t in schemas.SELECTABLE if t != "citations"), "rejects")


@dataclass(frozen=True, slots=True)
class BulkOptions:
    pubmed: tuple[Path, ...]
    # Online: categories from E-utilities searches (as build), and linked PMIDs
    # absent from the files (publisher-status records) fetched by efetch.
    online: bool = False
    raw_dir: Path | None = None
    executor: str = "process"
    scheduler: str | None = None
    workers: int | None = None
    per_category: int | None = None
    allow_partial: bool = False
    wait_lock: bool = False
    # The tables to write (--tables); concepts and rejects always are.
    tables: tuple[str, ...] = schemas.SELECTABLE
    # Where citations come from (--evidence): medgen links, and the concepts' MeSH ids.
    evidence: tuple[str, ...] = evidence.DEFAULT
    # --update: only the files the current snapshot does not list, over it (update.py).
    update: bool = False
    # --verify-inputs: --update hashes every listed file, whatever the digest cache says.
    verify_inputs: bool = False


@dataclass
class _Parsed:
    parses: list[FileParse]
    winners: Winners
    work_dir: Path
    warnings: dict[str, None] = field(default_factory=dict)
    carried: Carried | None = None  # --update: the current snapshot, before ``parses``


def order_pubmed_files(paths: Sequence[Path]) -> tuple[Path, ...]:
    """Directories expanded to their ``*.xml.gz`` files; all ordered by file number,
    which is NCBI's order (baseline 0001..N, then the update files after it)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.xml.gz")) + sorted(path.glob("*.xml")))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"no such PubMed file or directory: {path}")
    if not files:
        raise UsageError("no PubMed XML files given (--pubmed FILE_OR_DIR)")

    def key(p: Path) -> tuple[int, str]:
        match = _FILE_NUMBER.search(p.name)
        return (int(match.group(1)) if match else 0, p.name)

    return tuple(sorted(dict.fromkeys(files), key=key))


def bulk_build(
    settings: Settings,
    medgen: MedgenInput,
    options: BulkOptions,
    *,
    now: datetime | None = None,
    client: EutilsClient | None = None,
) -> tuple[Path, dict[str, Any]]:
    if not medgen.concepts:
        reasons = "; ".join(f"{f.ref}: {f.reason}" for f in medgen.failures)
        raise PartialRunError(f"no concept could be built ({reasons or 'none requested'})")
    files = order_pubmed_files(options.pubmed)
    raw_dir = (options.raw_dir or settings.out_dir / "raw") if options.online else None
    with claim_output(settings.out_dir, raw_dir=raw_dir, wait=options.wait_lock):
        start = _start(settings, medgen, options)
        carry = None
        if options.update:
            planned = _carry(settings, medgen, options, start, files)
            if planned is None:
                current = settings.out_dir / layout.SNAPSHOTS / str(start.parent)
                return current, read_manifest(current)
            carry, files = planned
            start = dataclasses.replace(start, mode=UPDATE_MODE)
        work = make_dir(settings.out_dir, WORK_PREFIX, 0o700)
        try:
            parsed = _parse_all(files, medgen, options, work, carry)
            online = None
            if options.online:
                online = _online(settings, medgen, options, parsed, client)
            snapshot, manifest = _publish(settings, medgen, options, parsed, online, (start, now))
            if online is not None and online.client.journal is not None:
                online.client.journal.discard()  # published: nothing left to resume
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if medgen.failures and not options.allow_partial:
        failed = ", ".join(f.ref for f in medgen.failures)
        raise PartialRunError(
            f"published {snapshot}, but {len(medgen.failures)} concept(s) failed: {failed} "
            "(see the manifest; --allow-partial makes this exit 0)"
        )
    return snapshot, manifest


def _start(settings: Settings, medgen: MedgenInput, options: BulkOptions) -> RunStart:
    """The run, with the arguments BulkOptions does not hold: the concepts and MedGen files."""
    every = medgen.link_table is not None  # --all-concepts: none named
    named = [ref.value for ref, _ in medgen.concepts] + [f.ref for f in medgen.failures]
    given = {
        "concepts": [] if every else named,
        "all_concepts": every,
        "medgen_files": medgen.sources,
    }
    return start_run("bulk", options, settings, given)


def _carry(
    settings: Settings,
    medgen: MedgenInput,
    options: BulkOptions,
    start: RunStart,
    files: Sequence[Path],
) -> tuple[Carried, tuple[Path, ...]] | None:
    """The current snapshot to extend and the files to apply over it, or None (said in
    the log) when no file is new."""
    categories = settings.categories if options.online else OFFLINE_CATEGORIES
    sources = medgen_files(medgen.sources)
    cache = settings.out_dir / layout.INPUT_DIGESTS
    digests = InputDigests.load(cache, verify=options.verify_inputs)
    plan = plan_update(
        settings.out_dir, start.parent, files, start.arguments, sources, categories, digests
    )
    digests.save()
    log.info(
        "--update: %d listed PubMed file(s) checked, %d of them read in full (the others as "
        "hashed before: same inode, size, mtime and ctime)",
        len(plan.carried),
        digests.hashed,
    )
    if not plan.new:
        log.warning(
            "--update: every PubMed file given is one the current snapshot %s lists: "
            "nothing new, nothing published",
            start.parent,
        )
        return None
    log.info("--update: %d new PubMed file(s) over %s", len(plan.new), start.parent)
    return carried(plan.snapshot, plan.carried, evidence.MESH in options.evidence), plan.new


def _parse_all(
    files: Sequence[Path],
    medgen: MedgenInput,
    options: BulkOptions,
    work: Path,
    carry: Carried | None = None,
) -> _Parsed:
    """Every file parsed; with ``carry``, the files after those it was built from."""
    keep: Container[int]
    if medgen.link_table is not None:
        keep = PmidSet(medgen.link_table["pmid"].to_numpy())
    else:
        keep = frozenset(p for pmids in medgen.links.values() for p in pmids)
    if evidence.MESH in options.evidence:
        keep = MeshKeep(keep, wanted_mesh_ids(c.mesh_ids for _, c in medgen.concepts))
    executor = make_executor(options.executor, workers=options.workers, scheduler=options.scheduler)
    n = len(files)
    first = 0 if carry is None else len(carry.files)  # the indices a full run gives them
    parses = executor.map(
        parse_file,
        [str(f) for f in files],
        list(range(first, first + n)),
        [str(work)] * n,
        [keep] * n,
        [options.tables] * n,
    )
    log.info("parsed %d files: %d records kept", n, sum(len(p.pmids) for p in parses))
    warnings = dict.fromkeys(w for p in parses for w in p.warnings)
    if carry is None:
        return _Parsed(list(parses), choose(parses), work, warnings)
    winners = choose([carry.parse, *parses])
    winners = with_old_deletions(winners, carry.manifest.pmids.deleted_pmids)
    return _Parsed(list(parses), winners, work, warnings, carry)


# ------------------------------------------------------------------ online


@dataclass
class _Online:
    hits: dict[tuple[str, str], CategorySearch]
    dbinfo: dict[str, DbInfo]
    fetched: int
    client: EutilsClient


def _online(
    settings: Settings,
    medgen: MedgenInput,
    options: BulkOptions,
    parsed: _Parsed,
    client: EutilsClient | None,
) -> _Online:
    """Categories by E-utilities, as build does; absent PMIDs fetched and parsed."""
    raw_dir = options.raw_dir or settings.out_dir / "raw"
    if client is None:
        run = wiring.run_id(settings, (), None)  # one journal for every online bulk run
        client = wiring.eutils_client(settings, raw_dir, run=run)
    hits: dict[tuple[str, str], CategorySearch] = {}
    for _, concept in medgen.concepts:
        if concept.uid is None:  # no links in the files: nothing to search
            for category in settings.categories:
                hits[(concept.cui, category.name)] = CategorySearch(0, ())
            continue
        link = client.link_pubmed(concept.uid)
        mesh = evidence.mesh_term(concept.mesh_ids) if evidence.MESH in options.evidence else None
        for category in settings.categories:
            searched = search_with_evidence(
                client,
                link,
                category.term,
                mesh,
                page_size=settings.search_page_size,
                limit=options.per_category,
            )
            hits[(concept.cui, category.name)], link = searched.hit, searched.link
    wanted = {p for hit in hits.values() for p in hit.pmids}
    absent = sorted(p for p in wanted if p not in parsed.winners)
    _fetch_absent(client, absent, settings.efetch_batch_size, parsed, options.tables)
    dbinfo: dict[str, DbInfo] = {}
    for db in ("pubmed", "medgen"):
        dbinfo[db], problem = wiring.database_info(client, db)
        if problem:
            log.warning("%s", problem)
            parsed.warnings[problem] = None
    parsed.warnings.update(client.warnings)  # e.g. a corrupt raw-store entry fetched again
    return _Online(hits, dbinfo, len(absent), client)


def _fetch_absent(
    client: EutilsClient,
    pmids: Sequence[int],
    batch: int,
    parsed: _Parsed,
    tables: tuple[str, ...] = schemas.SELECTABLE,
) -> None:
    """efetch the PMIDs no file holds, and parse them as files after the last one."""
    index = max((p.index for p in parsed.parses), default=-1)
    for start in range(0, len(pmids), batch):
        index += 1
        asked = pmids[start : start + batch]
        body = client.fetch_pubmed(asked)
        # A record not asked for would replace a file's record of that PMID: never kept.
        returned = {article.pmid for article in parse_efetch(body).articles}
        for pmid in sorted(returned - set(asked)):
            note = unasked_warning(pmid, asked)
            log.warning("%s", note)
            parsed.warnings[note] = None
        path = parsed.work_dir / f"efetch-{index:06d}.xml"
        path.write_bytes(body)
        parse = parse_file(
            str(path), index, str(parsed.work_dir), keep=frozenset(asked), selected=tables
        )
        parsed.parses.append(parse)
        parsed.warnings.update(dict.fromkeys(parse.warnings))
    if pmids:
        log.info("fetched %d PMIDs absent from the files", len(pmids))
        parsed.winners = choose(parsed.parses)


# ------------------------------------------------------------------ citations


def offline_hits(
    medgen: MedgenInput,
    fields: pa.Table,
    limit: int | None,
    by_mesh: Mapping[str, Sequence[int]] | None = None,
) -> dict[tuple[str, str], tuple[int, ...]]:
    """Per concept and offline category, its PMIDs in citation order (``order_links``).

    ``by_mesh`` (MeSH evidence): UI -> PMIDs of the records indexed with it.
    """
    present = frozenset(fields["pmid"].to_pylist())
    mesh = by_mesh if by_mesh is not None else {}
    hits: dict[tuple[str, str], tuple[int, ...]] = {}
    cuis: list[str] = []
    pmids: list[int] = []
    for _, concept in medgen.concepts:
        linked = medgen.links.get(concept.cui, ())
        chosen_pmids = concept_pmids(linked, concept.mesh_ids, present, mesh)
        cuis.extend([concept.cui] * len(chosen_pmids))
        pmids.extend(chosen_pmids)
        for category in OFFLINE_CATEGORIES:
            hits[(concept.cui, category.name)] = ()
    links = pa.table({"cui": pa.array(cuis, pa.string()), "pmid": pa.array(pmids, pa.int64())})
    ordered = order_links(links, fields)
    field_pmids = fields["pmid"].to_numpy()
    for category in OFFLINE_CATEGORIES:
        wanted = _OFFLINE_TYPES.get(category.name)
        keep = type_flags(fields, wanted) if wanted is not None else None
        chosen = select_category(ordered, keep, limit)
        grouped: dict[str, list[int]] = {}
        for cui, row in zip(chosen.cui.to_pylist(), chosen.rows.tolist(), strict=True):
            grouped.setdefault(cui, []).append(int(field_pmids[row]))
        for cui, chosen_pmids in grouped.items():
            hits[(cui, category.name)] = tuple(chosen_pmids)
    return hits


def _citation_table(
    category: str,
    hits: dict[tuple[str, str], tuple[int, ...]],
    fields: dict[int, dict[str, Any]],
    marks: dict[tuple[str, int], tuple[str, ...]],
) -> pa.Table:
    """``marks``: the evidence per (cui, PMID) (absent: MedGen's link alone)."""
    rows = []
    for (cui, name), pmids in sorted(hits.items()):
        if name != category:
            continue
        for rank, pmid in enumerate(pmids, start=1):
            row = {k: v for k, v in fields[pmid].items() if k in schemas.CITATIONS_FILE.names}
            found = list(marks.get((cui, pmid), evidence.LINKED_ONLY))
            rows.append({**row, "cui": cui, "rank": rank, "evidence": found})
    return pa.Table.from_pylist(rows, schema=schemas.CITATIONS_FILE)


# ------------------------------------------------------------------ publishing


def _part_stream(name: str, parsed: _Parsed) -> Iterator[pa.Table]:
    if parsed.carried is not None:
        yield from parsed.carried.rows(name, parsed.winners)
    for parse in sorted(parsed.parses, key=lambda p: p.index):
        path = parse.parts.get(name)
        if path is not None:
            yield surviving_rows(name, read_parquet(Path(path), path), parse.index, parsed.winners)


def _publish(
    settings: Settings,
    medgen: MedgenInput,
    options: BulkOptions,
    parsed: _Parsed,
    online: _Online | None,
    when: tuple[RunStart, datetime | None],
) -> tuple[Path, dict[str, Any]]:
    if online is None and medgen.link_table is not None:
        citations, accounts = _all_concepts_citations(medgen.link_table, parsed, options)
        categories: Sequence[Category] = OFFLINE_CATEGORIES
    else:
        categories = OFFLINE_CATEGORIES if online is None else settings.categories
        citations, accounts = _per_concept_citations(medgen, parsed, options, online, categories)

    def write(writer: SnapshotWriter) -> Manifest:
        concepts = [c for _, c in medgen.concepts]
        writer.add("concepts/part-0.parquet", tables.concepts_table(concepts, None))
        for relpath, schema, parts in detail_parts(medgen.details, concepts):
            writer.add_stream(relpath, schema, parts)
        for category in categories if "citations" in options.tables else ():
            path = f"citations/category={category.name}/part-0.parquet"
            writer.add_stream(path, schemas.CITATIONS_FILE, citations[category.name])
        for name in PART_TABLES:
            if name != "rejects" and name not in options.tables:
                continue
            schema = schemas.TABLES[name]
            parts = _part_stream(name, parsed)
            if name == "journals":
                parts = unique_journals(parts)
            writer.add_stream(f"{name}/part-0.parquet", schema, parts)
        return _manifest(medgen, options, parsed, categories, accounts, online)

    start, now = when
    return publish_snapshot(settings.out_dir, start, write, now)


@dataclass(frozen=True)
class _Accounts:
    """What the manifest says of the citations: PMIDs asked for and found, rows per concept."""

    requested: int
    loaded: int
    rejected: int  # asked for, with no record loaded but an unreadable one
    missing: list[int]
    deleted: list[int]
    per_concept: dict[str, CategoryCount]
    rows: dict[str, int]  # per category


def _per_concept_citations(
    medgen: MedgenInput,
    parsed: _Parsed,
    options: BulkOptions,
    online: _Online | None,
    categories: Sequence[Category],
) -> tuple[dict[str, Iterable[pa.Table]], _Accounts]:
    table = _cite_fields_table(parsed)
    fields: dict[int, dict[str, Any]] = {row["pmid"]: row for row in table.to_pylist()}
    mesh = evidence.MESH in options.evidence
    if online is None:
        by_mesh = index_by_mesh(fields) if mesh else None
        hits = offline_hits(medgen, table, options.per_category, by_mesh)
        requested = sorted({p for pmids in medgen.links.values() for p in pmids})
        # The MeSH-evidence PMIDs were asked for too: by the records that carry them.
        requested = sorted({*requested, *(p for ps in hits.values() for p in ps)})
    else:
        hits = {key: hit.pmids for key, hit in online.hits.items()}
        requested = sorted({p for pmids in hits.values() for p in pmids})
    hits = {key: tuple(p for p in pmids if p in fields) for key, pmids in hits.items()}
    concepts = [c for _, c in medgen.concepts]
    marks = hit_marks(concepts, medgen.links, hits, fields) if mesh else {}
    loaded = set(requested) & set(fields)
    rejected = set(requested) & _rejected_pmids(parsed) - loaded
    per_concept: dict[str, CategoryCount] = {}
    for (cui, cat), pmids in sorted(hits.items()):
        search = online.hits[(cui, cat)] if online is not None else None
        per_concept[f"{cui}/{cat}"] = CategoryCount(
            len(pmids),
            search.count if search is not None else None,
            search.slices if search is not None else None,
            evidence.count_marks(marks.get((cui, p), evidence.LINKED_ONLY) for p in pmids),
        )
    citations: dict[str, Iterable[pa.Table]] = {
        c.name: [_citation_table(c.name, hits, fields, marks)] for c in categories
    }
    rows = {c.name: sum(len(v) for (_, n), v in hits.items() if n == c.name) for c in categories}
    accounts = _Accounts(
        requested=len(requested),
        loaded=len(loaded),
        rejected=len(rejected),
        missing=sorted(set(requested) - loaded - rejected),
        deleted=sorted(set(requested) & parsed.winners.deleted),
        per_concept=per_concept,
        rows=rows,
    )
    return citations, accounts


def _all_concepts_citations(
    links: pa.Table, parsed: _Parsed, options: BulkOptions
) -> tuple[dict[str, Iterable[pa.Table]], _Accounts]:
    fields = _cite_fields_table(parsed)
    ordered = order_links(links, fields)
    citations: dict[str, Iterable[pa.Table]] = {}
    rows: dict[str, int] = {}
    for category in OFFLINE_CATEGORIES:
        wanted = _OFFLINE_TYPES.get(category.name)
        keep = type_flags(fields, wanted) if wanted is not None else None
        chosen = select_category(ordered, keep, options.per_category)
        rows[category.name] = len(chosen.rows)
        citations[category.name] = category_slices(chosen, fields)  # lazy: written as made
    unloaded = np.setdiff1d(ordered.requested, ordered.loaded)
    rejects = np.fromiter(_rejected_pmids(parsed), np.int64)
    rejected = np.intersect1d(unloaded, rejects)
    missing = np.setdiff1d(unloaded, rejected)
    deleted = np.intersect1d(ordered.requested, np.fromiter(parsed.winners.deleted, np.int64))
    accounts = _Accounts(
        requested=len(ordered.requested),
        loaded=len(ordered.loaded),
        rejected=len(rejected),
        missing=missing.tolist(),
        deleted=deleted.tolist(),
        per_concept={},  # every concept: the counts are the citations files' own
        rows=rows,
    )
    return citations, accounts


def _cite_fields_table(parsed: _Parsed) -> pa.Table:
    """The winning records' citation fields, one row per PMID, as one table."""
    carried = [] if parsed.carried is None else list(parsed.carried.cite_fields(parsed.winners))
    parts = carried + [
        surviving_rows(
            CITE_FIELDS,
            read_parquet(Path(parse.parts[CITE_FIELDS]), parse.parts[CITE_FIELDS]),
            parse.index,
            parsed.winners,
        )
        for parse in sorted(parsed.parses, key=lambda p: p.index)
        if CITE_FIELDS in parse.parts
    ]
    return pa.concat_tables(parts) if parts else CITE_FIELDS_SCHEMA.empty_table()


def _rejected_pmids(parsed: _Parsed) -> set[int]:
    """The PMIDs of unreadable records in any file (those whose PMID could be read)."""
    found = {pmid for parse in parsed.parses for pmid in parse.rejected_pmids}
    return found if parsed.carried is None else found | parsed.carried.rejected_pmids()


def _manifest(
    medgen: MedgenInput,
    options: BulkOptions,
    parsed: _Parsed,
    categories: Sequence[Category],
    accounts: _Accounts,
    online: _Online | None,
) -> Manifest:
    details = medgen.details
    before = parsed.carried.manifest if parsed.carried is not None else None
    files = () if parsed.carried is None else parsed.carried.files
    files += tuple(
        PubmedFile(p.source, p.index, len(p.pmids), len(p.deleted), p.bytes, p.sha256)
        for p in parsed.parses
    )
    unattributed = sum(p.rejects - len(p.rejected_pmids) for p in parsed.parses)
    warnings = {*parsed.warnings, *medgen.warnings, *detail_warnings(details)}
    if before is not None:  # what the files it was built from said
        unattributed += before.pmids.unattributed_rejects
        warnings.update(before.warnings)
    return Manifest(
        source="bulk",
        concepts=Concepts(
            requested=tuple(ref.value for ref, _ in medgen.concepts)
            + tuple(f.ref for f in medgen.failures),
            found=found_concepts(medgen.concepts),
            failed=medgen.failures,
            all=medgen.link_table is not None,
        ),
        categories=Categories(
            config=tuple(categories),
            mode=OFFLINE_MODE if online is None else EUTILS_MODE,
            sha256=None if online is None else categories_hash(tuple(categories)),
            per_concept=accounts.per_concept,
            rows=accounts.rows,
            evidence=tuple(options.evidence),
        ),
        per_category_limit=options.per_category,
        pmids=Pmids(
            requested=accounts.requested,
            loaded=accounts.loaded,
            rejected=accounts.rejected,
            missing=len(accounts.missing),
            missing_pmids=tuple(accounts.missing),
            deleted_pmids=tuple(accounts.deleted),
            unattributed_rejects=unattributed,
            fetched_by_efetch=online.fetched if online is not None else 0,
        ),
        bulk=Bulk(
            files=files,
            medgen_files=medgen_files(medgen.sources),
            concept_files=None if details is None else _concept_file_counts(details),
        ),
        warnings=tuple(sorted(warnings)),
        ncbi={} if online is None else releases(online.dbinfo),
        responses=() if online is None else response_entries(online.client),
        versions=library_versions(),
    )


def _concept_file_counts(details: ConceptFileReader) -> ConceptFiles:
    return ConceptFiles(
        files={
            name: ConceptFileCount(s.lines, s.rejected, s.suppressed)
            for name, s in details.stats.items()
        },
        duplicates=dict(details.duplicates),
    )
