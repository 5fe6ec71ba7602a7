"""What a build would send, before it sends it: ``build --dry-run``.

A full build's plan is made with count-only searches; an incremental build's
makes its searches for real, since they decide which PMIDs are new.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime

from pipeline import incremental
from pipeline.config import Settings
from pipeline.extract.client import EutilsClient
from pipeline.models import Concept, ConceptFailure, LinkHistory
from pipeline.resolve import resolve_concepts
from pipeline.runner import (
    BuildOptions,
    distinct_concepts,
    extract_concepts,
    incremental_decision,
    incremental_split,
    linkable_uid,
    make_client,
)
from pipeline.transform import evidence


@dataclass(frozen=True, slots=True)
class ConceptPlan:
    ref: str
    cui: str | None
    requests: int
    counts: dict[str, int]
    failure: str | None = None


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast a plan's requests may go: the configured rate and the limiter's spacing."""

    rate: float
    interval: float

    def estimate(self, requests: int) -> str:
        seconds = requests * self.interval
        return f"estimated time at {self.rate:g} requests/s: {seconds:.0f} s"


def _pace(settings: Settings, client: EutilsClient) -> Pace:
    limiter = client.limiter
    return Pace(settings.requests_per_second, limiter.interval if limiter else 0.0)


@dataclass(frozen=True, slots=True)
class Plan:
    concepts: tuple[ConceptPlan, ...]
    resolve: int  # shared by the concepts: batched esearch and esummary
    link: int  # batched elink
    efetch: int
    einfo: int
    pace: Pace

    @property
    def requests(self) -> int:
        concepts = sum(c.requests for c in self.concepts)
        return self.resolve + self.link + concepts + self.efetch + self.einfo

    @property
    def seconds(self) -> float:
        return self.requests * self.pace.interval


def plan(settings: Settings, options: BuildOptions) -> Plan:
    """What a build would send, found with count-only searches; writes nothing.

    Resolution and elink are done for real (they decide the rest); each category
    is counted with ``retmax=0`` (sliced when past esearch's ceiling, as the build
    would). efetch is bounded by the sum of the counts: the union of PMIDs is
    never larger, so a build never sends more than the plan says (retries aside).
    """
    client = make_client(settings, options, dry_run=True)
    resolved = resolve_concepts(client, options.concepts)
    resolving = client.stats.requests
    failures: list[ConceptFailure] = []
    distinct = dict(distinct_concepts(options.concepts, resolved, failures))
    uids = [linkable_uid(c) for c in distinct.values()]
    links = client.link_pubmed_many(uids, batch=settings.elink_batch_size)
    linking = client.stats.requests - resolving
    failed = {f.ref: f.reason for f in failures}
    concepts = []
    for ref in options.concepts:  # each as the build takes it: a repeated concept once
        if ref.value in failed:
            concepts.append(ConceptPlan(ref.value, None, 0, {}, failed[ref.value]))
        elif (concept := distinct.get(ref)) is not None:
            concepts.append(_plan_concept(client, settings, options, ref.value, concept, links))
    kept = sum(min(n, options.per_category or n) for c in concepts for n in c.counts.values())
    return Plan(
        concepts=tuple(concepts),
        resolve=resolving,
        link=linking,
        efetch=math.ceil(kept / settings.efetch_batch_size),
        einfo=2,
        pace=_pace(settings, client),
    )


def _plan_concept(
    client: EutilsClient,
    settings: Settings,
    options: BuildOptions,
    ref: str,
    concept: Concept,
    links: dict[int, LinkHistory],
) -> ConceptPlan:
    link = links[linkable_uid(concept)]
    requests = 0
    counts: dict[str, int] = {}
    mesh = evidence.mesh_term(concept.mesh_ids) if evidence.MESH in options.evidence else None
    # With MeSH evidence a category is searched twice: the linked set, then widened.
    searches = [link] if mesh is None else [link, replace(link, also=mesh)]
    for category in settings.categories:
        for searched in searches:
            counts[category.name], needed = client.plan_category(
                searched,
                category.term,
                page_size=settings.search_page_size,
                limit=options.per_category,
            )
            requests += needed
    return ConceptPlan(ref, concept.cui, requests, counts)


def describe_plan(plan: Plan) -> str:
    lines = [f"plan: {len(plan.concepts)} concept(s)"]
    for c in plan.concepts:
        if c.failure is not None:
            lines.append(f"  {c.ref}: fails ({c.failure})")
            continue
        counts = ", ".join(f"{k} {v}" for k, v in c.counts.items())
        lines.append(f"  {c.ref} ({c.cui}): {c.requests} requests; counts: {counts}")
    lines.append(
        f"requests: {plan.requests} at most "
        f"({plan.resolve} resolving concepts, {plan.link} elink, "
        f"{sum(c.requests for c in plan.concepts)} searching, {plan.efetch} efetch, "
        f"{plan.einfo} einfo), retries aside"
    )
    lines.append(plan.pace.estimate(plan.requests))
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class IncrementalPlan:
    """What ``build --incremental`` would send: its searches made for real (they
    decide which PMIDs are new), efetch counted from them."""

    parent: str
    since: str
    searching: int  # resolving, elink, category and modification-date searches
    split: incremental.FetchPlan
    efetch: int
    einfo: int
    pace: Pace

    @property
    def requests(self) -> int:
        return self.searching + self.efetch + self.einfo


def plan_incremental(
    settings: Settings, options: BuildOptions, now: datetime | None = None
) -> IncrementalPlan | tuple[Plan, str]:
    """The incremental plan, or (the full build's plan, why it would be full)."""
    carry, why = incremental_decision(settings, options, now)
    if carry is None:
        return plan(settings, options), why
    client = make_client(settings, options, dry_run=True)
    found = extract_concepts(client, settings, options)
    requested = sorted({p for hit in found.hits.values() for p in hit.pmids})
    split, _ = incremental_split(client, settings, options, found, requested, carry)
    return IncrementalPlan(
        parent=carry.parent,
        since=carry.since,
        searching=client.stats.requests,
        split=split,
        efetch=math.ceil(len(split.fetch) / settings.efetch_batch_size),
        einfo=2,
        pace=_pace(settings, client),
    )


def describe_incremental_plan(found: IncrementalPlan | tuple[Plan, str]) -> str:
    if isinstance(found, tuple):
        full, why = found
        return f"plan: a full build, not an incremental one: {why}\n{describe_plan(full)}"
    split = found.split
    return "\n".join(
        [
            f"plan: incremental over {found.parent}, records modified since {found.since}",
            f"  PMIDs: {len(split.new)} new and {len(split.modified)} modified to fetch, "
            f"{len(split.carried)} carried",
            f"requests: {found.requests} at most ({found.searching} resolving, linking and "
            f"searching, {found.efetch} efetch, {found.einfo} einfo), retries aside",
            found.pace.estimate(found.requests),
        ]
    )
