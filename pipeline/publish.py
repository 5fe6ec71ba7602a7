"""The one snapshot publisher of both runners.

A runner writes its tables into a ``SnapshotWriter`` and describes what it read
as a ``Manifest``; ``publish_snapshot`` adds what every run says of itself (the
command, its arguments, medgen-etl's version, the parent snapshot) and
publishes. What both runners put into a manifest in the same way (concepts,
responses, einfo releases, library versions, input files) is made here, once.
"""

from __future__ import annotations

import dataclasses
import platform
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from pipeline import __version__
from pipeline.config import Secret, Settings
from pipeline.extract.bulk_files import file_digest
from pipeline.extract.client import EutilsClient
from pipeline.load import layout
from pipeline.load.lineage import run_changes
from pipeline.load.manifest import (
    CHANGES_FILE,
    DbRelease,
    FoundConcept,
    Json,
    Manifest,
    MedgenFile,
    Response,
    Run,
    manifest_object,
)
from pipeline.load.snapshot import SnapshotWriter
from pipeline.models import Concept, ConceptRef, DbInfo

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

# Options that change how a run looks, not what it makes.
# Neither shapes the tables: how progress is shown, how hard the inputs are checked.
_NOT_ARGUMENTS = frozenset({"progress", "verify_inputs"})


@dataclass(frozen=True, slots=True)
class RunStart:
    """What a run says of itself, fixed when it takes the output directory."""

    command: str  # "build" or "bulk"
    arguments: Mapping[str, Json]
    parent: str | None  # the snapshot `current` named then, if any
    mode: str = "full"  # every answer read for this run (not carried over from the parent)
    # The output directory the parent is in, when not this run's (a rebuild's original's).
    parent_root: Path | None = None
    started_at: str | None = None  # when the run first started (its journal says)

    def run(self) -> Run:
        return Run(self.command, self.mode, __version__, self.arguments, self.started_at)


def start_run(
    command: str,
    options: DataclassInstance,
    settings: Settings,
    extra: Mapping[str, object] | None = None,
) -> RunStart:
    """Called once the run holds the output lock, before its first request.

    ``extra``: arguments the options do not hold (bulk's concepts and MedGen files).
    """
    parent = layout.current_name(settings.out_dir)
    arguments = run_arguments(options, settings)
    arguments.update({k: _json(v) for k, v in (extra or {}).items()})
    return RunStart(command, arguments, parent)


def run_arguments(options: DataclassInstance, settings: Settings) -> dict[str, Json]:
    """The run's options and the settings that shape its tables, as JSON.

    Never a secret: the API key lives in the environment only and is no option.
    Nor the contact address (``NCBI_EMAIL``): it is not secret but personal, a
    snapshot is shared with people who need not know whose it is, and it
    changes nothing that the snapshot holds. A URL loses any user and password.
    """
    out = {
        f.name: _json(getattr(options, f.name))
        for f in dataclasses.fields(options)
        if f.name not in _NOT_ARGUMENTS
    }
    out.update(
        out_dir=str(settings.out_dir),
        eutils_url=without_credentials(settings.eutils_url),
        search_page_size=settings.search_page_size,
        efetch_batch_size=settings.efetch_batch_size,
        elink_batch_size=settings.elink_batch_size,
    )
    return out


def _json(value: object) -> Json:
    if isinstance(value, Secret):
        raise TypeError("a secret is never a run argument")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, ConceptRef):
        return value.value
    if isinstance(value, tuple | list | frozenset | set):
        return [_json(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"no JSON form for the run argument {value!r}")


def without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], query=""))


def publish_snapshot(
    out_dir: Path,
    start: RunStart,
    write: Callable[[SnapshotWriter], Manifest],
    now: datetime | None = None,
) -> tuple[Path, dict[str, Json]]:
    """Stage a snapshot, let ``write`` add its tables and say its manifest, publish.

    Returns the snapshot and its manifest as written. A failure anywhere
    removes the staging directory and leaves ``current`` as it was.
    """
    writer = SnapshotWriter(out_dir)
    try:
        manifest = write(writer)
        # Both runners' tables are staged now: what changed since the parent is read
        # from them, so each path gets the same table.
        parents = start.parent_root or out_dir
        changes = run_changes(parents, start.parent, writer.staging, set(writer.files))
        writer.add(CHANGES_FILE, changes.table)
    except BaseException:
        writer.discard()
        raise
    manifest = dataclasses.replace(
        manifest,
        run=start.run(),
        parent=start.parent,
        changes=changes.counts,
        warnings=(*manifest.warnings, *changes.warnings),
    )
    path, published = writer.publish(manifest, now)
    return path, manifest_object(published)


def found_concepts(found: Iterable[tuple[ConceptRef, Concept]]) -> tuple[FoundConcept, ...]:
    return tuple(FoundConcept(ref.value, c.uid, c.cui, c.name) for ref, c in found)


def releases(dbinfo: Mapping[str, DbInfo]) -> dict[str, DbRelease]:
    return {db: DbRelease(i.db_build, i.last_update) for db, i in dbinfo.items()}


def response_entries(client: EutilsClient) -> tuple[Response, ...]:
    """Every raw response the snapshot was built from, in a stable order."""
    used = sorted(client.used.values(), key=lambda r: (r.utility, r.key))
    return tuple(Response(r.utility, r.key, r.sha256, r.size) for r in used)


def medgen_files(paths: Iterable[Path]) -> tuple[MedgenFile, ...]:
    """Each input file by name (the folder is not content), size and sha256."""
    return tuple(MedgenFile(p.name, *file_digest(p)) for p in paths)


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("medgen-etl", "biopython", "pyarrow", "lxml", "pandas", "tenacity", "click"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out
