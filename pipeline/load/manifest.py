"""A snapshot's manifest: its typed record, its one writer and its one reader.

``Manifest`` is a tree of frozen dataclasses; ``manifest_object`` turns it into
the JSON object a snapshot holds (every key, always: format 2), and
``load_manifest`` reads one back, format 1 or 2, checking every field.

The manifest is read as untrusted input.

A manifest can be edited by anyone who can write the snapshot, so nothing in it
is followed blindly: every path it lists must be relative, normalized and
inside the snapshot, and is opened one directory at a time without following
a symbolic link, so neither ``../../etc/passwd`` nor a link placed in the
snapshot leads a reader out of it. Every malformed field is a VerifyError
naming it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import posixpath
import re
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pyarrow as pa

from pipeline.errors import NoSnapshotError, VerifyError
from pipeline.load.parquet import FileEntry, sha256_stream
from pipeline.models import Category, ConceptFailure
from pipeline.transform.changes import KINDS as CHANGE_KINDS

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 2
READ_FORMATS = (1, 2)
# Manifest keys that say when, by which command line and after which snapshot a
# run happened, not what it read: the content hash leaves them out, so the same
# content built twice (or rebuilt later, elsewhere) has the same hash.
VOLATILE_KEYS = ("snapshot_id", "created_at", "content_hash", "parent", "run", "changes")
# The changes table says what changed since the parent: left out of the content hash
# with the parent, so the same content has the same hash whatever came before it.
CHANGES_FILE = "changes/part-0.parquet"
_SHA256 = re.compile(r"[0-9a-f]{64}")
# No control characters (NUL, newline ...) and no backslash in a listed path.
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


def content_hash(manifest: Mapping[str, Any]) -> str:
    stable = {k: v for k, v in manifest.items() if k not in VOLATILE_KEYS}
    if isinstance(files := stable.get("files"), dict) and CHANGES_FILE in files:
        stable["files"] = {k: v for k, v in files.items() if k != CHANGES_FILE}
    return hashlib.sha256(
        json.dumps(stable, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def path_problem(rel: object) -> str | None:
    """Why ``rel`` cannot name a file of a snapshot, or None if it can."""
    if not isinstance(rel, str) or not rel:
        return "is not a non-empty string"
    if _BAD_CHARS.search(rel):
        return "holds a control character or a backslash"
    if rel.startswith("/"):
        return "is an absolute path"
    if any(part in ("", ".", "..") for part in rel.split("/")) or posixpath.normpath(rel) != rel:
        return "is not a normalized path inside the snapshot"
    if rel == MANIFEST:
        return "names the manifest itself"
    return None


def open_inside(root: Path, rel: str) -> int:
    """A read-only descriptor of the regular file ``root/rel``.

    Each directory is opened relative to the one before with O_NOFOLLOW, so a
    symbolic link anywhere below ``root`` fails instead of being followed.
    ``rel`` must have passed ``path_problem``. Raises OSError (ELOOP for a link).
    """
    *dirs, name = rel.split("/")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in dirs:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
        # O_NONBLOCK: opening a FIFO placed there must not wait for a writer.
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
        found = os.open(name, flags, dir_fd=fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(found).st_mode):
        os.close(found)
        raise OSError(errno.EINVAL, "not a regular file")
    return found


def describe_open_error(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "missing"
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return "a symbolic link or not inside a directory of the snapshot: not followed"
    return f"cannot be opened ({exc.strerror or exc})"


@contextmanager
def checked_file(root: Path, rel: str, want: FileEntry) -> Iterator[pa.NativeFile]:
    """``root/rel`` opened for pyarrow, its size and sha256 found to be the manifest's.

    The file is opened inside ``root`` only (``open_inside``) and its size
    compared before a byte is read; any difference is a VerifyError naming it.
    pyarrow then reads it natively (a Python file object handed to pyarrow's
    I/O threads can abort the interpreter at exit): by path, once the path is
    found to lead to the very file that was checked.
    """
    try:
        fd = open_inside(root, rel)
    except OSError as exc:
        raise VerifyError(f"{rel}: {describe_open_error(exc)}") from exc
    try:
        checked = os.fstat(fd)
        if checked.st_size != want.bytes:
            raise VerifyError(f"{rel}: {checked.st_size} bytes, manifest says {want.bytes}")
        with os.fdopen(os.dup(fd), "rb") as fh:
            digest = sha256_stream(fh)
        if digest != want.sha256:
            raise VerifyError(f"{rel}: sha256 {digest[:12]}…, manifest says {want.sha256[:12]}…")
        with pa.memory_map(str(root / rel)) as source:
            now = os.stat(root / rel)
            if (now.st_dev, now.st_ino) != (checked.st_dev, checked.st_ino):
                raise VerifyError(f"{rel}: replaced while it was being read")
            yield source
    except OSError as exc:
        raise VerifyError(f"{rel}: cannot be read ({exc.strerror or exc})") from exc
    finally:
        os.close(fd)


def read_manifest(snapshot: Path) -> dict[str, Any]:
    """The manifest of ``snapshot`` as a JSON object; its fields are not yet checked."""
    where = snapshot / MANIFEST
    if not snapshot.is_dir():
        raise NoSnapshotError(f"{snapshot} is not a directory: not a published snapshot")
    try:
        fd = open_inside(snapshot, MANIFEST)
    except FileNotFoundError as exc:
        raise NoSnapshotError(f"{snapshot} has no {MANIFEST}: not a published snapshot") from exc
    except OSError as exc:
        raise VerifyError(f"{where} is {describe_open_error(exc)}") from exc
    try:
        with os.fdopen(fd, "rb") as fh:
            data = json.loads(fh.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise VerifyError(f"{where} is unreadable: {exc}") from exc
    if not isinstance(data, dict):
        raise VerifyError(f"{where} is not a JSON object")
    return data


def manifest_files(snapshot: Path, manifest: Mapping[str, Any]) -> dict[str, FileEntry]:
    """The manifest's ``files``, every path and field checked before any file is opened."""
    where = snapshot / MANIFEST
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise VerifyError(f"{where}: 'files' is not an object (found {_kind(files)})")
    if not files:
        raise VerifyError(f"{where}: 'files' lists no file")
    entries: dict[str, FileEntry] = {}
    problems: list[str] = []
    for rel, want in files.items():
        problem = path_problem(rel)
        if problem is None:
            problem = _entry_problem(want)
        if problem is not None:
            problems.append(f"files entry {rel!r} {problem}")
            continue
        entries[rel] = FileEntry(want["rows"], want["bytes"], want["sha256"])
    if problems:
        raise VerifyError(f"{where}: " + "; ".join(problems))
    return entries


def _entry_problem(want: object) -> str | None:
    if not isinstance(want, dict):
        return f"is not an object (found {_kind(want)})"
    for key in ("rows", "bytes"):
        value = want.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"has no whole number {key!r} (found {value!r:.40})"
    digest = want.get("sha256")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        return f"has no 64-hex 'sha256' (found {digest!r:.80})"
    return None


def check_content_hash(snapshot: Path, manifest: Mapping[str, Any]) -> None:
    if content_hash(manifest) != manifest.get("content_hash"):
        raise VerifyError(f"{snapshot / MANIFEST}: content_hash does not match its content")


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


# ------------------------------------------------------------------ the record

# How categories were decided: by E-utilities searches, or (bulk offline) from
# the links and publication types alone.
EUTILS_MODE = "E-utilities searches (#linked AND filter), as build"
OFFLINE_MODE = "offline: linked PMIDs and publication types only"
SOURCES = ("eutils", "bulk", "demo")
Json = Any  # a value json.loads gives


@dataclass(frozen=True, slots=True)
class FoundConcept:
    ref: str  # as the user named it
    uid: int | None
    cui: str
    name: str


@dataclass(frozen=True, slots=True)
class Concepts:
    requested: tuple[str, ...]
    found: tuple[FoundConcept, ...]
    failed: tuple[ConceptFailure, ...]
    all: bool = False  # bulk --all-concepts: no per-concept entries


@dataclass(frozen=True, slots=True)
class CategoryCount:
    """One concept's category: rows written, and (when searched) esearch's Count."""

    rows: int
    esearch_count: int | None = None
    slices: int | None = None
    # Rows per evidence mark (medgen_link, mesh, mesh_major); {} before evidence existed.
    evidence: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Categories:
    config: tuple[Category, ...]
    mode: str  # EUTILS_MODE or OFFLINE_MODE
    sha256: str | None  # of the categories configuration searched; None offline
    per_concept: Mapping[str, CategoryCount]  # "CUI/category"
    rows: Mapping[str, int]  # per category
    evidence: tuple[str, ...] = ("medgen",)  # the --evidence sources asked for


@dataclass(frozen=True, slots=True)
class Pmids:
    """Every PMID a category asked for: requested = loaded + rejected + missing."""

    requested: int
    loaded: int
    rejected: int
    missing: int
    missing_pmids: tuple[int, ...]
    deleted_pmids: tuple[int, ...]
    unattributed_rejects: int  # unreadable records whose PMID could not be read
    fetched_by_efetch: int = 0  # bulk --online: PMIDs no file held

    @property
    def balanced(self) -> bool:
        return self.requested == self.loaded + self.rejected + self.missing


@dataclass(frozen=True, slots=True)
class DbRelease:
    db_build: str | None
    last_update: str | None


@dataclass(frozen=True, slots=True)
class Response:
    """A raw response the snapshot was built from."""

    utility: str
    key: str
    sha256: str
    bytes: int


@dataclass(frozen=True, slots=True)
class PubmedFile:
    """A PubMed XML file bulk read (or an efetch answer parsed as one more file)."""

    name: str
    index: int
    records: int
    deletions: int
    bytes: int | None  # None: a format 1 manifest, which did not say
    sha256: str | None


@dataclass(frozen=True, slots=True)
class MedgenFile:
    """A MedGen file bulk read (links, names, definitions, concept files)."""

    name: str
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ConceptFileCount:
    lines: int
    rejected: int
    suppressed: int


@dataclass(frozen=True, slots=True)
class ConceptFiles:
    files: Mapping[str, ConceptFileCount]
    duplicates: Mapping[str, int]  # per table


@dataclass(frozen=True, slots=True)
class Bulk:
    files: tuple[PubmedFile, ...]
    medgen_files: tuple[MedgenFile, ...] = ()
    concept_files: ConceptFiles | None = None


@dataclass(frozen=True, slots=True)
class Run:
    """The run that made the snapshot (never a secret, nor the contact address)."""

    command: str  # "build" or "bulk"
    mode: str  # "full": every answer read for this run; "incremental" (build) or
    # "update" (bulk): tonight's answers over those `parent` was made from
    version: str  # medgen-etl's
    arguments: Mapping[str, Json]
    # When the run first started (before a kill, if it was resumed): its answers are
    # at most that old. None: not recorded (earlier manifests, runs without a journal).
    started_at: str | None = None


@dataclass(frozen=True, slots=True)
class Incremental:
    """How ``build --incremental`` made the snapshot from its parent."""

    since: str  # YYYY/MM/DD: where the modification-date search started
    last_full: str  # created_at of the last full build the chain of parents goes back to
    new: tuple[int, ...]  # PMIDs fetched because the parent held no record of them
    modified: tuple[int, ...]  # held, and fetched again: PubMed modified them since
    carried: int  # PMIDs whose records were read from the parent's answers


@dataclass(frozen=True, slots=True)
class Manifest:
    source: str  # one of SOURCES
    concepts: Concepts
    categories: Categories
    pmids: Pmids
    per_category_limit: int | None = None
    placeholder_columns: tuple[str, ...] = ()  # "table.column" holding placeholders (demo)
    warnings: tuple[str, ...] = ()
    ncbi: Mapping[str, DbRelease] = field(default_factory=dict)
    responses: tuple[Response, ...] = ()
    versions: Mapping[str, str] = field(default_factory=dict)
    bulk: Bulk | None = None
    run: Run | None = None  # None: a format 1 manifest
    parent: str | None = None  # the snapshot `current` named when the run started
    # build --incremental: the efetch answers of earlier nights whose records it
    # carried, in precedence order (a PMID's record comes from the first holding it).
    carried: tuple[Response, ...] = ()
    incremental: Incremental | None = None
    # Rows of the changes table per kind (added, removed, modified, retracted); None:
    # a manifest written before the changes table existed.
    changes: Mapping[str, int] | None = None
    format: int = MANIFEST_FORMAT
    files: Mapping[str, FileEntry] = field(default_factory=dict)
    # Set when published.
    snapshot_id: str | None = None
    created_at: str | None = None
    content_hash: str | None = None


# ------------------------------------------------------------------ the writer


def manifest_object(m: Manifest) -> dict[str, Json]:
    """The JSON object of ``m`` (format 2: every key, whatever the run)."""
    out: dict[str, Json] = {
        "format": MANIFEST_FORMAT,
        "source": m.source,
        "placeholder_columns": list(m.placeholder_columns),
        "run": None if m.run is None else _run_object(m.run),
        "parent": m.parent,
        "changes": None if m.changes is None else dict(m.changes),
        "concepts": {
            "requested": list(m.concepts.requested),
            "found": [_plain(c) for c in m.concepts.found],
            "failed": [_plain(f) for f in m.concepts.failed],
            "all": m.concepts.all,
        },
        "categories": {
            "config": [_category_object(c) for c in m.categories.config],
            "mode": m.categories.mode,
            "sha256": m.categories.sha256,
            "per_concept": {
                k: _count_object(v) for k, v in sorted(m.categories.per_concept.items())
            },
            "rows": dict(sorted(m.categories.rows.items())),
            "evidence": list(m.categories.evidence),
        },
        "per_category_limit": m.per_category_limit,
        "pmids": _plain(m.pmids),
        "warnings": list(m.warnings),
        "ncbi": {db: _plain(r) for db, r in sorted(m.ncbi.items())},
        "responses": [_plain(r) for r in m.responses],
        "versions": dict(sorted(m.versions.items())),
        "bulk": None if m.bulk is None else _bulk_object(m.bulk),
        "carried": [_plain(r) for r in m.carried],
        "incremental": None if m.incremental is None else _plain(m.incremental),
        "files": {k: _plain(v) for k, v in sorted(m.files.items())},
    }
    published = {"snapshot_id": m.snapshot_id, "created_at": m.created_at}
    out.update({k: v for k, v in published.items() if v is not None})
    if m.content_hash is not None:
        out["content_hash"] = m.content_hash
    return out


def dump_manifest(obj: Mapping[str, Json]) -> str:
    """The manifest file's text: keys sorted, one layout, so equal manifests are equal bytes."""
    return json.dumps(obj, indent=1, sort_keys=True) + "\n"


def _plain(record: Any) -> dict[str, Json]:
    """A flat record's fields as JSON (tuples as lists)."""
    return {
        f.name: list(v) if isinstance(v := getattr(record, f.name), tuple) else v
        for f in fields(record)
    }


def _count_object(c: CategoryCount) -> dict[str, Json]:
    out = _plain(c)
    out["evidence"] = dict(sorted(c.evidence.items()))
    return out


def _category_object(c: Category) -> dict[str, Json]:
    keys = ("name", "heading", "group", "subheading", "term")
    return {k: getattr(c, k) for k in keys}


def _run_object(run: Run) -> dict[str, Json]:
    return {
        "command": run.command,
        "mode": run.mode,
        "version": run.version,
        "arguments": dict(sorted(run.arguments.items())),
        "started_at": run.started_at,
    }


def _bulk_object(bulk: Bulk) -> dict[str, Json]:
    files = bulk.concept_files
    return {
        "files": [_plain(f) for f in bulk.files],
        "medgen_files": [_plain(f) for f in bulk.medgen_files],
        "concept_files": None
        if files is None
        else {
            "files": {k: _plain(v) for k, v in sorted(files.files.items())},
            "duplicates": dict(sorted(files.duplicates.items())),
        },
    }


# ------------------------------------------------------------------ the reader


def load_manifest(snapshot: Path) -> Manifest:
    """The checked manifest of ``snapshot``: every path and field, and its content hash.

    Reads format 2 and format 1 (whose missing fields get the values a format 1
    run meant: no run, no parent, no input file hashes). Raises VerifyError
    naming the first field that is wrong, NoSnapshotError if there is none.
    """
    data = read_manifest(snapshot)
    files = manifest_files(snapshot, data)
    check_content_hash(snapshot, data)
    return parse_manifest(snapshot / MANIFEST, data, files)


def parse_manifest(
    where: Path, data: Mapping[str, Json], files: Mapping[str, FileEntry]
) -> Manifest:
    top = _Fields(where, "", data)
    version = top.value("format", lambda v: v in READ_FORMATS, f"one of {READ_FORMATS}")
    old = version == 1
    source = top.text("source", default=_old_source(data) if old else _REQUIRED)
    if source not in SOURCES:
        raise VerifyError(f"{where}: 'source' is not one of {SOURCES} (found {source!r:.40})")
    pmids = _pmids(top.obj("pmids"))
    if not pmids.balanced:
        raise VerifyError(
            f"{where}: 'pmids' does not add up: requested {pmids.requested} is not "
            f"loaded {pmids.loaded} + rejected {pmids.rejected} + missing {pmids.missing}"
        )
    bulk = top.opt_obj("bulk", default=None if old else _REQUIRED)
    run = top.opt_obj("run", default=None if old else _REQUIRED)
    return Manifest(
        source=source,
        concepts=_concepts(top.obj("concepts"), old),
        categories=_categories(top.obj("categories"), old),
        pmids=pmids,
        per_category_limit=top.opt_count("per_category_limit", default=None if old else _REQUIRED),
        placeholder_columns=top.texts("placeholder_columns", default=() if old else _REQUIRED),
        warnings=top.texts("warnings"),
        ncbi={
            db: DbRelease(r.opt_text("db_build"), r.opt_text("last_update"))
            for db, r in top.obj("ncbi", default={} if old else _REQUIRED).members()
        },
        responses=_responses(top, "responses", default=() if old else _REQUIRED),
        # Manifests before incremental builds have neither key.
        carried=_responses(top, "carried", default=()),
        incremental=_incremental(top.opt_obj("incremental", default=None)),
        versions=top.obj("versions").text_values(),
        bulk=None if bulk is None else _bulk(bulk, old),
        run=None if run is None else _run(run),
        parent=top.opt_text("parent", default=None if old else _REQUIRED),
        changes=_changes(top),
        format=version,
        files=dict(files),
        snapshot_id=top.text("snapshot_id"),
        created_at=top.text("created_at"),
        content_hash=top.text("content_hash"),
    )


def _responses(top: _Fields, key: str, default: Any) -> tuple[Response, ...]:
    return tuple(
        Response(r.text("utility"), r.text("key"), r.text("sha256"), r.count("bytes"))
        for r in top.objs(key, default=default)
    )


def _incremental(f: _Fields | None) -> Incremental | None:
    if f is None:
        return None
    return Incremental(
        since=f.text("since"),
        last_full=f.text("last_full"),
        new=f.counts("new"),
        modified=f.counts("modified"),
        carried=f.count("carried"),
    )


def _changes(top: _Fields) -> dict[str, int] | None:
    """Optional in format 2: manifests written before the changes table lack it."""
    found = top.opt_obj("changes", default=None)
    return None if found is None else {kind: found.count(kind) for kind in CHANGE_KINDS}


def _old_source(data: Mapping[str, Json]) -> str:
    """A format 1 manifest without ``source`` came from E-utilities (bulk always said)."""
    return "bulk" if "bulk" in data else "eutils"


def _concepts(f: _Fields, old: bool) -> Concepts:
    return Concepts(
        requested=f.texts("requested"),
        found=tuple(
            FoundConcept(c.text("ref"), c.opt_count("uid"), c.text("cui"), c.text("name"))
            for c in f.objs("found")
        ),
        failed=tuple(ConceptFailure(c.text("ref"), c.text("reason")) for c in f.objs("failed")),
        all=f.flag("all", default=False if old else _REQUIRED),
    )


def _categories(f: _Fields, old: bool) -> Categories:
    config = tuple(
        Category(
            c.text("name"),
            c.text("heading"),
            c.text("term"),
            c.opt_text("group", default=None),
            c.opt_text("subheading", default=None),
        )
        for c in f.objs("config")
    )
    per_concept = {
        key: CategoryCount(
            c.count("rows"),
            c.opt_count("esearch_count", default=None),
            c.opt_count("slices", default=None),
            c.obj("evidence").count_values() if c.has("evidence") else {},
        )
        for key, c in f.obj("per_concept").members()
    }
    if old and not f.has("rows"):  # a format 1 build: the rows per category are its per_concept's
        rows = {c.name: 0 for c in config}
        for key, count in per_concept.items():
            category = key.partition("/")[2]
            rows[category] = rows.get(category, 0) + count.rows
    else:
        rows = f.obj("rows").count_values()
    return Categories(
        config=config,
        mode=f.text("mode", default=EUTILS_MODE if old else _REQUIRED),
        sha256=f.opt_text("sha256", default=None if old else _REQUIRED),
        per_concept=per_concept,
        rows=rows,
        evidence=f.texts("evidence", default=("medgen",)),
    )


def _pmids(f: _Fields) -> Pmids:
    return Pmids(
        requested=f.count("requested"),
        loaded=f.count("loaded"),
        rejected=f.count("rejected"),
        missing=f.count("missing"),
        missing_pmids=f.counts("missing_pmids"),
        deleted_pmids=f.counts("deleted_pmids"),
        unattributed_rejects=f.count("unattributed_rejects"),
        fetched_by_efetch=f.count("fetched_by_efetch", default=0),
    )


def _bulk(f: _Fields, old: bool) -> Bulk:
    def hashed(p: _Fields) -> tuple[int | None, str | None]:
        if old:
            return p.opt_count("bytes", default=None), p.opt_text("sha256", default=None)
        return p.count("bytes"), p.text("sha256")

    files = tuple(
        PubmedFile(
            p.text("name"), p.count("index"), p.count("records"), p.count("deletions"), *hashed(p)
        )
        for p in f.objs("files")
    )
    medgen = tuple(
        MedgenFile(p.text("name"), p.count("bytes"), p.text("sha256"))
        for p in f.objs("medgen_files", default=() if old else _REQUIRED)
    )
    concept = f.opt_obj("concept_files", default=None if old else _REQUIRED)
    return Bulk(files, medgen, None if concept is None else _concept_files(concept))


def _concept_files(f: _Fields) -> ConceptFiles:
    return ConceptFiles(
        files={
            name: ConceptFileCount(c.count("lines"), c.count("rejected"), c.count("suppressed"))
            for name, c in f.obj("files").members()
        },
        duplicates=f.obj("duplicates").count_values(),
    )


def _run(f: _Fields) -> Run:
    return Run(
        command=f.text("command"),
        mode=f.text("mode"),
        version=f.text("version"),
        arguments=f.obj("arguments").data,
        started_at=f.opt_text("started_at", default=None),
    )


class _Required:
    pass


_REQUIRED: Any = _Required()


class _Fields:
    """One JSON object of the manifest, read field by field; a wrong field is a
    VerifyError naming its dotted path (``categories.per_concept``)."""

    def __init__(self, where: Path, path: str, data: object) -> None:
        if not isinstance(data, dict):
            raise VerifyError(f"{where}: '{path}' is not an object (found {_kind(data)})")
        self.where, self.path, self.data = where, path, data

    def has(self, key: str) -> bool:
        return key in self.data

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def value(self, key: str, check: Any, what: str, default: Any = _REQUIRED) -> Any:
        if key not in self.data:
            if default is _REQUIRED:
                raise VerifyError(f"{self.where}: '{self._name(key)}' is missing")
            return default
        found = self.data[key]
        if not check(found):
            raise VerifyError(
                f"{self.where}: '{self._name(key)}' is not {what} (found {found!r:.60})"
            )
        return found

    def text(self, key: str, default: Any = _REQUIRED) -> str:
        found: str = self.value(key, _is_text, "text", default)
        return found

    def opt_text(self, key: str, default: Any = _REQUIRED) -> str | None:
        found: str | None = self.value(
            key, lambda v: v is None or _is_text(v), "text or null", default
        )
        return found

    def count(self, key: str, default: Any = _REQUIRED) -> int:
        found: int = self.value(key, _is_count, "a whole number", default)
        return found

    def opt_count(self, key: str, default: Any = _REQUIRED) -> int | None:
        check = lambda v: v is None or _is_count(v)  # noqa: E731
        found: int | None = self.value(key, check, "a whole number or null", default)
        return found

    def flag(self, key: str, default: Any = _REQUIRED) -> bool:
        found: bool = self.value(key, lambda v: isinstance(v, bool), "true or false", default)
        return found

    def texts(self, key: str, default: Any = _REQUIRED) -> tuple[str, ...]:
        check = lambda v: isinstance(v, list) and all(map(_is_text, v))  # noqa: E731
        return tuple(self.value(key, check, "a list of text", default))

    def counts(self, key: str, default: Any = _REQUIRED) -> tuple[int, ...]:
        check = lambda v: isinstance(v, list) and all(map(_is_count, v))  # noqa: E731
        return tuple(self.value(key, check, "a list of whole numbers", default))

    def obj(self, key: str, default: Any = _REQUIRED) -> _Fields:
        found = self.value(key, lambda v: isinstance(v, dict), "an object", default)
        return _Fields(self.where, self._name(key), found)

    def opt_obj(self, key: str, default: Any = _REQUIRED) -> _Fields | None:
        check = lambda v: v is None or isinstance(v, dict)  # noqa: E731
        found = self.value(key, check, "an object or null", default)
        return None if found is None else _Fields(self.where, self._name(key), found)

    def objs(self, key: str, default: Any = _REQUIRED) -> list[_Fields]:
        check = lambda v: isinstance(v, list | tuple)  # noqa: E731
        found = self.value(key, check, "a list", default)
        return [_Fields(self.where, f"{self._name(key)}[{i}]", v) for i, v in enumerate(found)]

    def members(self) -> list[tuple[str, _Fields]]:
        return [(k, _Fields(self.where, self._name(k), v)) for k, v in self.data.items()]

    def text_values(self) -> dict[str, str]:
        return {k: self.text(k) for k in self.data}

    def count_values(self) -> dict[str, int]:
        return {k: self.count(k) for k in self.data}


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
