"""The build: where extract, transform and load meet, and nowhere else.

    concepts → (esearch) → esummary → batched elink history → esearch per category
    → efetch of the union of PMIDs → parse → tables → staged snapshot → publish

With --incremental, efetch is sent only for the PMIDs that are new or that PubMed
modified, and every other record is read again from an earlier night's answer
(pipeline/incremental.py). The dry-run plans are in pipeline/plan.py.

Every PMID a category asked for is accounted for:
requested = loaded + rejected + missing, and the manifest says which.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from pipeline import incremental, wiring
from pipeline.config import Settings
from pipeline.errors import ConceptError, PartialRunError
from pipeline.extract.client import CategorySearch, EutilsClient
from pipeline.extract.evidence import search_with_evidence
from pipeline.extract.rawstore import read_provenance
from pipeline.load import concept_tables, schemas, tables
from pipeline.load.layout import claim_output
from pipeline.load.manifest import (
    EUTILS_MODE,
    Categories,
    CategoryCount,
    Concepts,
    Incremental,
    Manifest,
    Pmids,
    Response,
)
from pipeline.load.snapshot import SnapshotWriter
from pipeline.logs import CONCEPT, RUN_ID
from pipeline.models import (
    Article,
    CitationRow,
    Concept,
    ConceptFailure,
    ConceptRef,
    DbInfo,
    LinkHistory,
    Reject,
)
from pipeline.publish import (
    RunStart,
    found_concepts,
    library_versions,
    publish_snapshot,
    releases,
    response_entries,
    start_run,
)
from pipeline.resolve import Resolution, resolve_concepts
from pipeline.transform import evidence
from pipeline.transform.citations import citation_row
from pipeline.transform.evidence import row_evidence
from pipeline.transform.pubmed import FirstRecordPerPmid, parse_efetch, unasked_warning

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BuildOptions:
    concepts: tuple[ConceptRef, ...]
    raw_dir: Path
    offline: bool = False
    per_category: int | None = None
    fresh: bool = False
    allow_partial: bool = False
    wait_lock: bool = False
    progress: bool = False
    # The tables to write (--tables); concepts and rejects always are.
    tables: tuple[str, ...] = schemas.SELECTABLE
    # Where citations come from (--evidence): medgen links, and the concept's MeSH ids.
    evidence: tuple[str, ...] = evidence.DEFAULT
    # --incremental: carry the current snapshot's unmodified records; --full: never.
    incremental: bool = False
    full: bool = False


@dataclass(frozen=True, slots=True)
class BuildResult:
    snapshot: Path
    manifest: dict[str, Any]  # as written to manifest.json (load_manifest gives it typed)
    failures: tuple[ConceptFailure, ...]


@dataclass
class _Found:
    """What extraction learnt about the concepts, before any article is read."""

    concepts: list[tuple[ConceptRef, Concept]] = field(default_factory=list)
    failures: list[ConceptFailure] = field(default_factory=list)
    hits: dict[tuple[str, str], CategorySearch] = field(default_factory=dict)
    # With MeSH evidence: per (cui, category) the PMIDs of ``hits`` MedGen links,
    # and per CUI the MeSH ids searched.
    linked: dict[tuple[str, str], frozenset[int]] = field(default_factory=dict)
    mesh: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Per CUI the plain linked set as last searched (incremental_split widens it by the
    # CUI's MeSH ids, under that evidence, as the category searches were).
    links: dict[str, LinkHistory] = field(default_factory=dict)


@dataclass
class _Articles:
    by_pmid: dict[int, Article] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    deleted: set[int] = field(default_factory=set)
    # Schema drift and other notes, each kept (and logged) once per run.
    warnings: dict[str, None] = field(default_factory=dict)
    # An incremental build: the earlier answers read, and what it fetched and carried.
    carried_from: tuple[Response, ...] = ()
    incremental: Incremental | None = None

    def warn(self, warnings: Sequence[str]) -> None:
        for text in warnings:
            if text not in self.warnings:
                self.warnings[text] = None
                log.warning("%s (ignored)", text)

    def note(self, text: str) -> None:
        """A warning about what the answers held (logged as it stands)."""
        if text not in self.warnings:
            self.warnings[text] = None
            log.warning("%s", text)


# ------------------------------------------------------------------ wiring


def run_id(settings: Settings, options: BuildOptions) -> str:
    """Same arguments, same id: how a rerun finds the journal of a killed run."""
    # Only a non-default evidence joins the facts: earlier runs keep their ids.
    extra = [list(options.evidence)] if options.evidence != evidence.DEFAULT else []
    return wiring.run_id(settings, options.concepts, options.per_category, extra)


def make_client(
    settings: Settings, options: BuildOptions, *, dry_run: bool = False
) -> EutilsClient:
    return wiring.eutils_client(
        settings,
        options.raw_dir,
        run=run_id(settings, options),
        offline=options.offline,
        fresh=options.fresh,
        dry_run=dry_run,
    )


# ------------------------------------------------------------------ the build


def build(
    settings: Settings,
    options: BuildOptions,
    *,
    client: EutilsClient | None = None,
    now: datetime | None = None,
    carry: incremental.Carry | None = None,
    lineage: tuple[str | None, Path] | None = None,
) -> BuildResult:
    """``carry``: what to carry from earlier nights, decided by the caller (a
    rebuild of an incremental snapshot); else decided here for --incremental.
    ``lineage``: the parent snapshot and the output directory it is in, when not
    ``current`` here (a rebuild is the original's copy, parent and changes too)."""
    RUN_ID.set(run_id(settings, options))
    with claim_output(settings.out_dir, raw_dir=options.raw_dir, wait=options.wait_lock):
        client = client or make_client(settings, options)
        return _build(settings, options, client, now, (carry, lineage))


def _build(
    settings: Settings,
    options: BuildOptions,
    client: EutilsClient,
    now: datetime | None,
    given: tuple[incremental.Carry | None, tuple[str | None, Path] | None],
) -> BuildResult:
    carry, why = _carry(settings, options, given[0], now)
    extra = {} if carry is None else {"modified_since": carry.since}
    start = start_run("build", options, settings, extra)  # before the first request
    if client.journal is not None:
        start = replace(start, started_at=client.journal.started_at)
    if carry is not None:
        start = replace(start, mode="incremental")
    if given[1] is not None:
        start = replace(start, parent=given[1][0], parent_root=given[1][1])
    found = extract_concepts(client, settings, options)
    if not found.concepts:
        reasons = "; ".join(f"{f.ref}: {f.reason}" for f in found.failures)
        raise PartialRunError(f"no concept could be built ({reasons})")
    requested = sorted({p for hit in found.hits.values() for p in hit.pmids})
    if carry is None:
        articles = _extract_articles(
            client, requested, settings.efetch_batch_size, progress=options.progress
        )
        if why:
            articles.note(f"a full build, not an incremental one: {why}")
    else:
        articles = _carry_articles(client, settings, options, found, requested, carry)
    dbinfo: dict[str, DbInfo] = {}
    for db in ("pubmed", "medgen"):
        dbinfo[db], problem = wiring.database_info(client, db)
        articles.warn([problem] if problem else [])
    articles.warnings.update(client.warnings)  # already logged by the client
    snapshot, manifest = _load(
        settings, options, client, found, articles, requested, dbinfo, (start, now)
    )
    if client.journal is not None:
        client.journal.discard()
    log.info("published %s", snapshot)
    result = BuildResult(snapshot, manifest, tuple(found.failures))
    if found.failures and not options.allow_partial:
        failed = ", ".join(f.ref for f in found.failures)
        raise PartialRunError(
            f"published {snapshot}, but {len(found.failures)} concept(s) failed: {failed} "
            "(see the manifest; --allow-partial makes this exit 0)"
        )
    return result


def _carry(
    settings: Settings,
    options: BuildOptions,
    carry: incremental.Carry | None,
    now: datetime | None,
) -> tuple[incremental.Carry | None, str]:
    if carry is not None or not options.incremental:
        return carry, ""
    carry, why = incremental_decision(settings, options, now)
    if carry is None:
        log.warning("a full build, not an incremental one: %s", why)
    else:
        log.info("incremental over %s: PubMed records modified since %s", carry.parent, carry.since)
    return carry, why


def incremental_decision(
    settings: Settings, options: BuildOptions, now: datetime | None
) -> tuple[incremental.Carry | None, str]:
    """incremental.decide for these options: the carry, or why the build is a full one."""
    return incremental.decide(
        settings, full=options.full, offline=options.offline, now=now or datetime.now(UTC)
    )


def _carry_articles(
    client: EutilsClient,
    settings: Settings,
    options: BuildOptions,
    found: _Found,
    requested: list[int],
    carry: incremental.Carry,
) -> _Articles:
    """Fetch the new and the modified PMIDs; read every other record again from the
    answer of an earlier night that holds it."""
    split, held = incremental_split(client, settings, options, found, requested, carry)
    articles = _extract_articles(
        client, split.fetch, settings.efetch_batch_size, progress=options.progress
    )
    for text in held.notes:
        articles.note(text)
    carried, rejects, answers = incremental.carried_records(client.store, held, split.carried)
    articles.by_pmid.update((a.pmid, a) for a in carried)
    articles.rejects.extend(rejects)
    articles.carried_from = answers
    articles.incremental = Incremental(
        since=carry.since,
        last_full=carry.last_full,
        new=split.new,
        modified=split.modified,
        carried=len(split.carried),
    )
    log.info(
        "incremental: %d new and %d modified PMIDs fetched, %d carried",
        len(split.new),
        len(split.modified),
        len(split.carried),
    )
    return articles


def incremental_split(
    client: EutilsClient,
    settings: Settings,
    options: BuildOptions,
    found: _Found,
    requested: list[int],
    carry: incremental.Carry,
) -> tuple[incremental.FetchPlan, incremental.Held]:
    """Which requested PMIDs are new, modified (both fetched) or carried."""
    held = incremental.held_records(client.store, carry.answers, strict=client.offline)
    asked: dict[str, set[int]] = {}
    for (cui, _), hit in found.hits.items():
        asked.setdefault(cui, set()).update(hit.pmids)
    links = {
        cui: link
        if cui not in found.mesh
        else replace(link, also=evidence.mesh_term(found.mesh[cui]))
        for cui, link in found.links.items()
    }
    modified = incremental.modified_pmids(
        client, links, asked, held, since=carry.since, page_size=settings.search_page_size
    )
    return incremental.split(requested, held, modified), held


def extract_concepts(client: EutilsClient, settings: Settings, options: BuildOptions) -> _Found:
    found = _Found()
    resolved = resolve_concepts(client, options.concepts)
    found.concepts = distinct_concepts(options.concepts, resolved, found.failures)
    uids = [linkable_uid(c) for _, c in found.concepts]
    links = client.link_pubmed_many(uids, batch=settings.elink_batch_size)
    bar = tqdm(found.concepts, desc="concepts", unit="concept", disable=not options.progress)
    for ref, concept in bar:
        CONCEPT.set(ref.value)
        bar.set_postfix(requests=client.stats.requests, refresh=False)
        link = links[linkable_uid(concept)]
        mesh = evidence.mesh_term(concept.mesh_ids) if evidence.MESH in options.evidence else None
        if mesh is not None:
            found.mesh[concept.cui] = concept.mesh_ids
        for category in settings.categories:
            key = (concept.cui, category.name)
            searched = search_with_evidence(
                client,
                link,
                category.term,
                mesh,
                page_size=settings.search_page_size,
                limit=options.per_category,
            )
            found.hits[key], link = searched.hit, searched.link
            if searched.linked is not None:
                found.linked[key] = searched.linked
        found.links[concept.cui] = link
    CONCEPT.set(None)
    return found


def distinct_concepts(
    refs: Sequence[ConceptRef],
    resolved: dict[ConceptRef, Resolution],
    failures: list[ConceptFailure],
) -> list[tuple[ConceptRef, Concept]]:
    """The concepts found, each MedGen UID once (two references to one concept are
    built once); those not found go to ``failures``."""
    out: list[tuple[ConceptRef, Concept]] = []
    seen: set[int] = set()
    for ref in refs:
        concept = resolved[ref]
        if isinstance(concept, ConceptError):
            log.warning("concept %s failed: %s", ref, concept)
            failures.append(ConceptFailure(ref.value, str(concept)))
            continue
        uid = linkable_uid(concept)  # an E-utilities summary always carries its UID
        if uid not in seen:
            seen.add(uid)
            out.append((ref, concept))
    return out


def linkable_uid(concept: Concept) -> int:
    if concept.uid is None:
        raise ConceptError(f"{concept.cui} has no MedGen UID to link from")
    return concept.uid


def _extract_articles(
    client: EutilsClient, pmids: Sequence[int], batch: int, *, progress: bool = False
) -> _Articles:
    """Every asked-for record, once: one not asked for by its request is noted and
    not loaded (it would count as requested by no category), and a PMID met again
    keeps its first record (the rule the bulk path follows)."""
    out = _Articles()
    first = FirstRecordPerPmid("efetch")
    starts = range(0, len(pmids), batch)
    for start in tqdm(starts, desc="efetch", unit="batch", disable=not progress):
        asked = pmids[start : start + batch]
        parsed = parse_efetch(client.fetch_pubmed(asked))
        wanted = set(asked)
        for article in parsed.articles:
            if article.pmid not in wanted:
                out.note(unasked_warning(article.pmid, asked))
            elif (twice := first.admit(article.pmid)) is not None:
                out.note(twice)
            else:
                out.by_pmid[article.pmid] = article
        out.rejects.extend(parsed.rejects)
        out.deleted.update(parsed.deleted)
        out.warn(parsed.warnings)
    return out


# ------------------------------------------------------------------ load


def _citation_rows(
    found: _Found, articles: _Articles, settings: Settings
) -> dict[str, list[CitationRow]]:
    rows: dict[str, list[CitationRow]] = {c.name: [] for c in settings.categories}
    for (cui, category), hit in found.hits.items():
        for rank, pmid in enumerate(hit.pmids, start=1):
            article = articles.by_pmid.get(pmid)
            if article is not None:
                marks = row_evidence(
                    found.linked.get((cui, category)), found.mesh.get(cui, ()), article
                )
                rows[category].append(citation_row(cui, category, rank, article, marks))
    return rows


def _load(
    settings: Settings,
    options: BuildOptions,
    client: EutilsClient,
    found: _Found,
    articles: _Articles,
    requested: list[int],
    dbinfo: dict[str, DbInfo],
    when: tuple[RunStart, datetime | None],
) -> tuple[Path, dict[str, Any]]:
    rows = _citation_rows(found, articles, settings)
    loaded = list(articles.by_pmid.values())

    def write(writer: SnapshotWriter) -> Manifest:
        concepts = [c for _, c in found.concepts]
        writer.add(
            "concepts/part-0.parquet", tables.concepts_table(concepts, dbinfo["medgen"].db_build)
        )
        for relpath, table in concept_tables.detail_tables(concepts).items():
            writer.add(relpath, table)
        for category in settings.categories if "citations" in options.tables else ():
            table = tables.citations_table(rows[category.name])
            writer.add(f"citations/category={category.name}/part-0.parquet", table)
        built = tables.article_tables(loaded, articles.rejects, options.tables)
        for relpath, table in built.items():
            writer.add(relpath, table)
        return _manifest(settings, options, client, found, articles, requested, dbinfo, rows)

    start, now = when
    return publish_snapshot(settings.out_dir, start, write, now)


def accounting(requested: Sequence[int], articles: _Articles) -> Pmids:
    asked = set(requested)
    loaded = asked & set(articles.by_pmid)
    rejected = asked & {r.pmid for r in articles.rejects if r.pmid is not None} - loaded
    missing = sorted(asked - loaded - rejected)
    assert len(asked) == len(loaded) + len(rejected) + len(missing)
    return Pmids(
        requested=len(asked),
        loaded=len(loaded),
        rejected=len(rejected),
        missing=len(missing),
        missing_pmids=tuple(missing),
        deleted_pmids=tuple(sorted(asked & articles.deleted)),
        unattributed_rejects=sum(1 for r in articles.rejects if r.pmid is None),
    )


def _manifest(
    settings: Settings,
    options: BuildOptions,
    client: EutilsClient,
    found: _Found,
    articles: _Articles,
    requested: list[int],
    dbinfo: dict[str, DbInfo],
    rows: dict[str, list[CitationRow]],
) -> Manifest:
    written = {(r.cui, r.category): 0 for rs in rows.values() for r in rs}
    marks: dict[tuple[str, str], list[tuple[str, ...]]] = {}
    for rs in rows.values():
        for r in rs:
            written[(r.cui, r.category)] += 1
            marks.setdefault((r.cui, r.category), []).append(r.evidence)
    provenance = read_provenance(options.raw_dir)
    return Manifest(
        source=provenance.source,
        placeholder_columns=tuple(provenance.placeholder_columns),
        concepts=Concepts(
            requested=tuple(r.value for r in options.concepts),
            found=found_concepts(found.concepts),
            failed=tuple(found.failures),
        ),
        categories=Categories(
            config=settings.categories,
            mode=EUTILS_MODE,
            sha256=settings.categories_hash,
            per_concept={
                f"{cui}/{cat}": CategoryCount(
                    written.get((cui, cat), 0),
                    hit.count,
                    hit.slices,
                    evidence.count_marks(marks.get((cui, cat), ())),
                )
                for (cui, cat), hit in sorted(found.hits.items())
            },
            evidence=tuple(options.evidence),
            rows={name: len(category_rows) for name, category_rows in rows.items()},
        ),
        per_category_limit=options.per_category,
        pmids=accounting(requested, articles),
        carried=articles.carried_from,
        incremental=articles.incremental,
        warnings=tuple(sorted(articles.warnings)),
        ncbi=releases(dbinfo),
        responses=response_entries(client),
        versions=library_versions(),
    )
