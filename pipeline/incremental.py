"""build --incremental: tonight's searches, the night before's records where PubMed
changed nothing.

Concepts, links and category searches are made as in any build (they give
tonight's ranks). Of the PMIDs they ask for, efetch is sent only for those the
snapshot before held no record of, and those PubMed modified since it was
made: an ``[mdat]`` search over each concept's linked set, from a safety margin
before that snapshot's ``created_at``. Every other record is read again from
the efetch answer it came from, in the raw store, so the tables are those a
full build would make from the same records, byte for byte, and the snapshot
names every answer it was made from (``carried``): ``rebuild`` and ``gc`` need
nothing else.

Whether a run may carry is decided here; a run that may not is a full build,
and says why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from pipeline.config import Settings
from pipeline.errors import OfflineMissError, RawStoreError, VerifyError
from pipeline.extract.client import EutilsClient
from pipeline.extract.rawstore import RawStore
from pipeline.load import layout
from pipeline.load.manifest import Manifest, Response, load_manifest
from pipeline.models import Article, LinkHistory, Reject
from pipeline.publish import without_credentials
from pipeline.transform.carry import record_pmids, records_of

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Carry:
    """What an incremental build takes from the snapshot before it."""

    parent: str
    since: str  # YYYY/MM/DD
    last_full: str  # created_at of the last full build of the chain
    # Efetch answers of earlier nights, in precedence order: a PMID's record is
    # the first of these answers that asked for it and holds it.
    answers: tuple[Response, ...]


def decide(
    settings: Settings, *, full: bool, offline: bool, now: datetime
) -> tuple[Carry | None, str]:
    """(the carry, "") for an incremental build, or (None, why it is a full one)."""
    if full:
        return None, "--full was given"
    if offline:
        # The store holds last night's answers, not what PubMed modified since.
        return None, "--offline: the modification-date search needs NCBI"
    parent = layout.current_name(settings.out_dir)
    if parent is None:
        return None, f"{settings.out_dir} has no current snapshot"
    try:
        manifest = load_manifest(settings.out_dir / layout.SNAPSHOTS / parent)
    except VerifyError as exc:
        return None, f"the current snapshot {parent} cannot be read ({exc})"
    why = _refusal(manifest, settings)
    if why:
        return None, f"the current snapshot {parent} {why}"
    assert manifest.created_at is not None  # a published manifest says when
    last_full = _last_full(manifest)
    age = now - _instant(last_full)
    if settings.full_every_days and age >= timedelta(days=settings.full_every_days):
        return None, (
            f"the last full build ({last_full}) is {age.days} days old "
            f"(incremental.full_every_days = {settings.full_every_days})"
        )
    # The parent's records are as of when its run started (a resumed run reuses
    # answers from before its kill), and no later than when it was published.
    as_of = (manifest.run.started_at if manifest.run else None) or manifest.created_at
    since = _instant(as_of) - timedelta(days=settings.modified_margin_days)
    return Carry(parent, since.strftime("%Y/%m/%d"), last_full, next_answers(manifest)), ""


def _refusal(manifest: Manifest, settings: Settings) -> str:
    if manifest.run is None:
        return "was made before incremental builds (a format 1 manifest)"
    if manifest.run.command != "build":
        return f"was made by `medgen-etl {manifest.run.command}`, not by build"
    url = manifest.run.arguments.get("eutils_url")
    if url is not None and url != without_credentials(settings.eutils_url):
        return f"was made from {url}, not {without_credentials(settings.eutils_url)}"
    return ""


def _last_full(manifest: Manifest) -> str:
    if manifest.incremental is not None:
        return manifest.incremental.last_full
    assert manifest.created_at is not None
    return manifest.created_at


def _instant(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def next_answers(manifest: Manifest) -> tuple[Response, ...]:
    """The answers the next night carries from: this snapshot's own efetch answers
    (each PMID in one of them), then those it carried, in their order."""
    own = tuple(r for r in manifest.responses if r.utility == "efetch")
    return own + tuple(manifest.carried)


# ------------------------------------------------------------------ held records


@dataclass
class Held:
    """The records the answers hold: per PMID, the index of its answer."""

    answers: tuple[Response, ...]
    source: dict[int, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __contains__(self, pmid: object) -> bool:
        return pmid in self.source


def held_records(store: RawStore, answers: Sequence[Response], *, strict: bool) -> Held:
    """Index the answers' records. An answer the store no longer holds is noted and
    passed over (its PMIDs are fetched again); ``strict`` (offline) refuses it."""
    held = Held(tuple(answers))
    for index, response in enumerate(answers):
        found = _body(store, response, strict=strict, notes=held.notes)
        if found is None:
            continue
        body, asked = found
        for pmid in record_pmids(body):
            if pmid in asked:
                held.source.setdefault(pmid, index)
    return held


def _body(
    store: RawStore, response: Response, *, strict: bool, notes: list[str]
) -> tuple[bytes, frozenset[int]] | None:
    what = f"efetch answer {response.sha256[:12]}... (request {response.key[:12]}...)"
    try:
        found = store.answer_body(response.utility, response.key, response.sha256)
    except RawStoreError as exc:
        if strict:
            raise
        notes.append(f"{what} is unreadable ({exc}); its PMIDs were fetched again")
        return None
    if found is None:
        if strict:
            raise OfflineMissError(f"the raw store {store.root} no longer holds the {what}")
        notes.append(f"the raw store no longer holds the {what}; its PMIDs were fetched again")
        return None
    body, entry = found
    ids = entry.params.get("id", "")
    return body, frozenset(int(p) for p in ids.split(",") if p.strip().isdigit())


def carried_records(
    store: RawStore, held: Held, pmids: Iterable[int]
) -> tuple[list[Article], list[Reject], tuple[Response, ...]]:
    """The records of ``pmids`` (all held), and the answers they were read from."""
    by_answer: dict[int, set[int]] = {}
    for pmid in pmids:
        by_answer.setdefault(held.source[pmid], set()).add(pmid)
    articles: list[Article] = []
    rejects: list[Reject] = []
    for index in sorted(by_answer):
        found = _body(store, held.answers[index], strict=True, notes=[])
        assert found is not None  # strict: a missing answer raised
        got, bad = records_of(found[0], by_answer[index])
        articles.extend(got)
        rejects.extend(bad)
    return articles, rejects, tuple(held.answers[i] for i in sorted(by_answer))


# ------------------------------------------------------------------ modified records


def modified_term(since: str) -> str:
    """The PubMed term for records modified on or after ``since`` (YYYY/MM/DD)."""
    return f'("{since}"[mdat] : "3000"[mdat])'


# Linked sets ORed into one modification-date search: (#1 OR ... #100) is some
# 700 characters, well inside what esearch takes (Bio.Entrez POSTs a long term).
SETS_PER_SEARCH = 100


def modified_pmids(
    client: EutilsClient,
    links: Mapping[str, LinkHistory],
    asked: Mapping[str, set[int]],
    held: Held,
    *,
    since: str,
    page_size: int,
    group: int = SETS_PER_SEARCH,
) -> set[int]:
    """The held PMIDs PubMed modified since ``since``, searched over the linked sets
    of the concepts whose asked PMIDs (``asked``, per CUI) include a held one: the
    sets of one session ``group`` to a search, a set widened by MeSH ids alone."""
    term = modified_term(since)
    wanted = [link for cui, link in links.items() if any(p in held for p in asked.get(cui, ()))]
    found: set[int] = set()
    for chunk in _session_groups(wanted, group):
        union = None if len(chunk) == 1 else client.search_sets(chunk, term, page_size=page_size)
        if union is not None:
            found.update(union.pmids)
            continue
        for link in chunk:
            if len(chunk) > 1:  # the union found the session lost: link each set anew
                link = replace(client.link_pubmed(link.uid, refresh=True), also=link.also)
            one, _ = client.search_category(link, term, page_size=page_size, limit=None)
            found.update(one.pmids)
    return {p for p in found if p in held}


def _session_groups(links: Sequence[LinkHistory], size: int) -> list[list[LinkHistory]]:
    """Plain sets grouped by session, at most ``size`` to a group, in order; a set
    widened by MeSH ids (``also``) or without a query key is a group of its own."""
    by_session: dict[str | None, list[LinkHistory]] = {}
    alone: list[list[LinkHistory]] = []
    for link in links:
        if link.also is not None or link.query_key is None:
            if not link.empty:
                alone.append([link])
            continue
        by_session.setdefault(link.webenv, []).append(link)
    grouped = [
        group[i : i + size] for group in by_session.values() for i in range(0, len(group), size)
    ]
    return grouped + alone


@dataclass(frozen=True, slots=True)
class FetchPlan:
    new: tuple[int, ...]
    modified: tuple[int, ...]
    carried: tuple[int, ...]

    @property
    def fetch(self) -> list[int]:
        return sorted((*self.new, *self.modified))


def split(requested: Iterable[int], held: Held, modified: set[int]) -> FetchPlan:
    new, again, carried = [], [], []
    for pmid in sorted(set(requested)):
        if pmid not in held:
            new.append(pmid)
        elif pmid in modified:
            again.append(pmid)
        else:
            carried.append(pmid)
    return FetchPlan(tuple(new), tuple(again), tuple(carried))
