"""Rebuilding a published snapshot, offline, from the very answers it was built from.

The manifest names every answer the build used (``responses``: request key and
sha256) and the options that decided which requests were sent (``arguments``,
``categories.config``). The rebuild is a build over those options whose client
answers each request with exactly the body the manifest names, so answers a
later night stored for the same requests change nothing: the Parquet files
come out byte for byte as the original's (same libraries assumed; the result
says which files differ if any do).

The rebuilt snapshot is published into its own output directory (``--into``,
by default ``rebuilt-<snapshot id>``), as its ``current``: the output directory
the original lives in, and what is current there, are left as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.errors import UsageError, VerifyError
from pipeline.incremental import Carry
from pipeline.load import schemas
from pipeline.load.manifest import MANIFEST, Manifest
from pipeline.load.reader import PublishedSnapshot, open_snapshot, snapshot_categories
from pipeline.refs import parse_concept_ref
from pipeline.runner import BuildOptions, BuildResult, build, make_client
from pipeline.transform import evidence

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RebuildResult:
    build: BuildResult
    # Files whose bytes differ from the original's (empty: identical).
    differing: tuple[str, ...]


def rebuild(
    settings: Settings, original: Path, *, raw_dir: Path, into: Path, wait_lock: bool = False
) -> RebuildResult:
    """Rebuild the snapshot at ``original`` into the output directory ``into``."""
    if into.resolve() == original.resolve().parent.parent:
        raise UsageError(
            f"--into {into} is the output directory {original.name} lives in: the rebuild "
            "would become its current snapshot; give another --into"
        )
    snapshot = open_snapshot(original)
    if snapshot.manifest.source == "bulk":
        raise UsageError(
            f"snapshot {original.name} was made by `medgen-etl bulk` from files, not from "
            "the raw store: run bulk again over the files its manifest lists"
        )
    pinned = pinned_answers(snapshot)
    settings, options = _build_inputs(settings, snapshot, raw_dir, into, wait_lock)
    client = replace(make_client(settings, options), pinned=pinned)
    lineage = (snapshot.manifest.parent, original.resolve().parent.parent)
    result = build(settings, options, client=client, carry=_carry(snapshot), lineage=lineage)
    differing = _differing(snapshot.manifest, result.manifest)
    if differing:
        log.warning(
            "rebuilt %s, but %d file(s) differ from the original's: %s (library versions "
            "then: %s; now: %s)",
            original.name,
            len(differing),
            ", ".join(differing),
            dict(snapshot.manifest.versions),
            result.manifest.get("versions"),
        )
    return RebuildResult(result, differing)


def _carry(snapshot: PublishedSnapshot) -> Carry | None:
    """An incremental snapshot's records of earlier nights: the very answers it read."""
    manifest, where = snapshot.manifest, snapshot.path / MANIFEST
    if manifest.run is None or manifest.run.mode != "incremental":
        return None
    since = manifest.run.arguments.get("modified_since")
    if manifest.incremental is None or manifest.parent is None or not isinstance(since, str):
        raise VerifyError(
            f"{where}: an incremental run without its 'incremental', 'parent' or "
            "'run.arguments.modified_since'"
        )
    return Carry(manifest.parent, since, manifest.incremental.last_full, manifest.carried)


def pinned_answers(snapshot: PublishedSnapshot) -> dict[str, str]:
    """Request key -> sha256 of the answer the build used, from the manifest."""
    if not snapshot.manifest.responses:
        raise VerifyError(
            f"{snapshot.path / MANIFEST}: 'responses' lists no answer: nothing to rebuild from"
        )
    return {r.key: r.sha256 for r in snapshot.manifest.responses}


def _build_inputs(
    settings: Settings, snapshot: PublishedSnapshot, raw_dir: Path, into: Path, wait_lock: bool
) -> tuple[Settings, BuildOptions]:
    manifest, where = snapshot.manifest, snapshot.path / MANIFEST
    if manifest.run is not None:
        arguments: Mapping[str, Any] = manifest.run.arguments
    else:
        # A format 1 manifest has no run arguments: the requested concepts and limit
        # are there; the page sizes are taken from the configuration (the defaults
        # unless changed), and a request they do not give is named as missing.
        log.warning("%s has no run arguments: using the configured page and batch sizes", where)
        arguments = {
            "concepts": list(manifest.concepts.requested),
            "per_category": manifest.per_category_limit,
            "search_page_size": settings.search_page_size,
            "efetch_batch_size": settings.efetch_batch_size,
        }
    refs = arguments.get("concepts")
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs) or not refs:
        raise VerifyError(f"{where}: 'run.arguments.concepts' is not a list of concept references")
    rebuilt = replace(
        settings,
        out_dir=into,
        categories=snapshot_categories(snapshot),
        search_page_size=_whole(arguments, "search_page_size", where),
        efetch_batch_size=_whole(arguments, "efetch_batch_size", where),
        # Runs before elinks were batched linked one UID per request.
        elink_batch_size=_whole(arguments, "elink_batch_size", where, default=1),
    )
    per_category = arguments.get("per_category")
    if per_category is not None:
        per_category = _whole(arguments, "per_category", where)
    tables = arguments.get("tables", list(schemas.SELECTABLE))
    if not isinstance(tables, list) or not all(t in schemas.SELECTABLE for t in tables):
        raise VerifyError(f"{where}: 'run.arguments.tables' names a table this version lacks")
    sources = arguments.get("evidence", list(evidence.DEFAULT))
    if not isinstance(sources, list) or not all(e in evidence.SOURCES for e in sources):
        raise VerifyError(f"{where}: 'run.arguments.evidence' names a source this version lacks")
    options = BuildOptions(
        concepts=tuple(parse_concept_ref(r) for r in refs),
        evidence=tuple(sources),
        raw_dir=raw_dir,
        offline=True,
        per_category=per_category,
        # The original's failed concepts fail again, as they did: not an error here.
        allow_partial=True,
        wait_lock=wait_lock,
        tables=tuple(tables),
    )
    return rebuilt, options


def _whole(arguments: Mapping[str, Any], name: str, where: Path, default: int | None = None) -> int:
    value = arguments.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise VerifyError(f"{where}: 'arguments.{name}' is not a positive whole number")
    return value


def _differing(original: Manifest, rebuilt: Mapping[str, Any]) -> tuple[str, ...]:
    """Files that differ. The changes table is told against the original's parent, or
    the side gc kept of it (pipeline/load/lineage.py); with neither, the rebuild's
    cannot be the same, and its warnings say why."""
    before = {rel: f.sha256 for rel, f in original.files.items()}
    after = {rel: f.get("sha256") for rel, f in rebuilt.get("files", {}).items()}
    names = sorted(set(before) | set(after))
    return tuple(n for n in names if before.get(n) != after.get(n))
