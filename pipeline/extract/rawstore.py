"""The raw layer: every complete answer NCBI gave, each body stored once.

Layout under the store's root::

    objects/<sha256>              a body, zstd-compressed; named by the sha256 of
                                  the body exactly as NCBI sent it
    answers/<utility>/<key>.json  a request (canonical, no secrets) and its answers,
                                  oldest first: sha256, bytes, the run that fetched
                                  it and when (and the last run that got it again)
    runs/<run_id>.json            the marker of a run that has not published yet
    outputs/<hash>.json           an output directory that builds from the store
                                  (pipeline/extract/store_users.py)
    provenance.json               where the answers came from (absent: NCBI)

The same body fetched on 300 nights is one object and one answer (whose
``last_run`` moves on); a changed body is a new object and a new answer, so
every answer a snapshot's manifest names stays readable after later nights.
A store in the earlier layout (``<utility>/<key>.xml`` and its ``.json``
sidecar) is read as it stands, each entry as the oldest answer of its request,
until ``medgen-etl raw migrate`` moves it (see :func:`migrate`).

Files are written to a temporary name, flushed and renamed, so a reader (or a
run killed mid-write) never sees half of one. A put writes the object first
and the answer after it: a kill in between leaves an object no answer names
(removed by ``gc``), never an answer without its body. An object whose content
does not hash to its name was damaged after it was stored, and is reported as
corrupt. The answers of one request are rewritten whole under the store's lock
(``.index.lock``), so two runs sharing a store never lose each other's answers.
Temporary files a kill left behind (``.<name>.*.tmp``) are removed by the next
run that writes the store.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.errors import RawStoreCorruptError, RawStoreError
from pipeline.extract.objects import (
    OBJECT_TEMP,
    SHA256,
    ObjectStore,
    atomic_write,
)
from pipeline.extract.request import UTILITIES, EutilsRequest

log = logging.getLogger(__name__)

OBJECTS, ANSWERS, RUNS, STORE_LOCK = "objects", "answers", "runs", ".index.lock"
# The temporary names atomic_write gives (".<name>." + mkstemp's random part + ".tmp").
_ANSWERS_TEMP = re.compile(r"\.[0-9a-f]{64}\.json\.[A-Za-z0-9_]+\.tmp")
_LEGACY_TEMP = re.compile(r"\.[0-9a-f]{64}\.(?:xml|json)\.[A-Za-z0-9_]+\.tmp")
_MARKER_TEMP = re.compile(r"\.[0-9A-Za-z_-]+\.json\.[A-Za-z0-9_]+\.tmp")


@dataclass(frozen=True, slots=True)
class StoredResponse:
    utility: str
    key: str
    sha256: str
    size: int
    run: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """One body a request was answered with; ``last_run`` got the same body again."""

    sha256: str
    size: int
    run: str | None = None
    fetched_at: str | None = None
    last_run: str | None = None
    last_fetched_at: str | None = None

    def fetched_by(self, run: str) -> bool:
        return run in (self.run, self.last_run)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"sha256": self.sha256, "bytes": self.size}
        optional = {
            "run": self.run,
            "fetched_at": self.fetched_at,
            "last_run": self.last_run,
            "last_fetched_at": self.last_fetched_at,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data


@dataclass(frozen=True, slots=True)
class Entry:
    """A request as the store holds it, with every answer it got (oldest first)."""

    utility: str
    key: str
    params: dict[str, str]
    answers: tuple[Answer, ...] = field(default=())


def _json_bytes(data: object) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class RawStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.store = ObjectStore(root / OBJECTS)

    # ------------------------------------------------------------ paths

    def object_path(self, sha256: str) -> Path:
        return self.store.path(sha256)

    def _answers_path(self, utility: str, key: str) -> Path:
        return self.root / ANSWERS / utility / f"{key}.json"

    def _legacy_paths(self, utility: str, key: str) -> tuple[Path, Path]:
        base = self.root / utility / key
        return base.with_suffix(".xml"), base.with_suffix(".json")

    # ------------------------------------------------------------ reading

    def get(
        self, request: EutilsRequest, *, run: str | None = None, sha256: str | None = None
    ) -> tuple[bytes, StoredResponse] | None:
        """The latest answer to ``request``; with ``run``, the latest that run fetched;
        with ``sha256``, that very body (what a rebuild asks for). None if there is none."""
        if sha256 is not None:
            return self._by_digest(request, sha256)
        answers = self.entry(request.utility, request.key).answers
        if run is not None:
            answers = tuple(a for a in answers if a.fetched_by(run))
        if not answers:
            return None
        latest = answers[-1]
        body = self._body(request, latest)
        owner = run if run is not None else (latest.last_run or latest.run)
        return body, StoredResponse(request.utility, request.key, latest.sha256, len(body), owner)

    def _by_digest(
        self, request: EutilsRequest, sha256: str
    ) -> tuple[bytes, StoredResponse] | None:
        known = {a.sha256: a for a in self.entry(request.utility, request.key).answers}
        answer = known.get(sha256)
        if answer is None and self.object_path(sha256).is_file():
            answer = Answer(sha256, -1)  # an object no answer names (yet): still that body
        if answer is None:
            return None
        body = self._body(request, answer)
        return body, StoredResponse(request.utility, request.key, sha256, len(body), answer.run)

    def answer_body(self, utility: str, key: str, sha256: str) -> tuple[bytes, Entry] | None:
        """That answer to the request keyed ``key``, and the request's entry (its
        parameters); None when the store no longer holds it."""
        entry = self.entry(utility, key)
        answer = next((a for a in entry.answers if a.sha256 == sha256), None)
        if answer is None:
            return None
        request = EutilsRequest.make(utility, **entry.params)
        return self._body(request, answer), entry

    def entry(self, utility: str, key: str) -> Entry:
        """The request's answers: the earlier layout's entry first, then the new ones."""
        legacy = self._legacy_entry(utility, key)
        current = self._read_entry(utility, key)
        if legacy is None:
            return current or Entry(utility, key, {})
        if current is None:
            return legacy
        return Entry(utility, key, current.params, _merge(legacy.answers, current.answers))

    def _read_entry(self, utility: str, key: str) -> Entry | None:
        path = self._answers_path(utility, key)
        data = _read_json(path)
        return None if data is None else _parse_entry(path, utility, key, data)

    def _legacy_entry(self, utility: str, key: str) -> Entry | None:
        _, meta_path = self._legacy_paths(utility, key)
        meta = _read_json(meta_path)
        if meta is None:
            return None
        if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str):
            raise RawStoreError(f"raw store entry {meta_path} names no sha256")
        run, size = meta.get("run"), meta.get("bytes")
        answer = Answer(
            meta["sha256"],
            size if isinstance(size, int) else -1,
            run if isinstance(run, str) else None,
        )
        return Entry(utility, key, _params(meta), (answer,))

    def _body(self, request: EutilsRequest, answer: Answer) -> bytes:
        """The body of ``answer``, checked against its name: from its object, or from
        the earlier layout's file."""
        body = self.store.read(answer.sha256, what=request.describe())
        return self._legacy_body(request, answer) if body is None else body

    def _legacy_body(self, request: EutilsRequest, answer: Answer) -> bytes:
        body_path, _ = self._legacy_paths(request.utility, request.key)
        try:
            body = body_path.read_bytes()
        except FileNotFoundError:
            raise RawStoreCorruptError(
                f"raw store entry {request.describe()} is corrupt: its answer "
                f"{answer.sha256[:12]}... has no object {self.object_path(answer.sha256)}",
                path=str(self.object_path(answer.sha256)),
            ) from None
        except OSError as exc:
            raise RawStoreError(f"raw store entry {body_path} is unreadable: {exc}") from exc
        digest = hashlib.sha256(body).hexdigest()
        if digest != answer.sha256:
            # The earlier layout removed a sidecar before writing its body: a
            # mismatched pair was changed after it was stored.
            raise self._corrupt(
                request,
                body_path,
                f"{len(body)} bytes with sha256 {digest[:12]}..., but its sidecar names "
                f"{answer.size} bytes with sha256 {answer.sha256[:12]}...",
            )
        return body

    @staticmethod
    def _corrupt(request: EutilsRequest, path: Path, why: str) -> RawStoreCorruptError:
        return RawStoreCorruptError(
            f"raw store entry {path} ({request.describe()}) is corrupt: {why}", path=str(path)
        )

    def entries(self) -> Iterator[Entry]:
        """Every request the store holds, in either layout."""
        seen: set[tuple[str, str]] = set()
        for utility in sorted(UTILITIES):
            for directory in (self.root / ANSWERS / utility, self.root / utility):
                for key in _keys(directory):
                    if (utility, key) not in seen:
                        seen.add((utility, key))
                        yield self.entry(utility, key)

    # ------------------------------------------------------------ writing

    def put(self, request: EutilsRequest, body: bytes, *, run: str | None = None) -> StoredResponse:
        digest = hashlib.sha256(body).hexdigest()
        try:
            self.store.write(digest, body)
            with self.locked():
                entry = self.entry(request.utility, request.key)
                answers = _add(entry.answers, Answer(digest, len(body), run, _now()))
                self._write_entry(request.utility, request.key, request.param_dict, answers)
        except OSError as exc:
            raise RawStoreError(f"cannot write to raw store {self.root}: {exc.strerror}") from exc
        return StoredResponse(request.utility, request.key, digest, len(body), run)

    def _write_entry(
        self, utility: str, key: str, params: dict[str, str], answers: tuple[Answer, ...]
    ) -> None:
        data = {
            "utility": utility,
            "params": params,
            "answers": [a.as_json() for a in answers],
        }
        atomic_write(self._answers_path(utility, key), _json_bytes(data))

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The store's own lock, held while answers are rewritten (never for long)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / STORE_LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def remove_orphan_temps(self, *, older_than: float = 0.0) -> list[Path]:
        """Remove the temporary files a killed write left; return them.

        Only names the store itself gives (an object's, an answer list's, an
        earlier layout's entry's or a run marker's temporary name, in its own
        directories): nothing else under the root is touched. ``older_than``
        (seconds) spares files another process may still be writing.
        """
        removed: list[Path] = []
        places = [(self.root / OBJECTS, OBJECT_TEMP), (self.root / RUNS, _MARKER_TEMP)]
        for u in sorted(UTILITIES):
            places += [(self.root / ANSWERS / u, _ANSWERS_TEMP), (self.root / u, _LEGACY_TEMP)]
        cutoff = time.time() - older_than
        for directory, pattern in places:
            for path in _candidates(directory, pattern):
                try:
                    if path.lstat().st_mtime <= cutoff:
                        path.unlink()
                        removed.append(path)
                except FileNotFoundError:
                    continue  # renamed into place or removed meanwhile
                except OSError as exc:
                    raise RawStoreError(f"cannot remove {path}: {exc.strerror}") from exc
        if removed:
            log.info("removed %d temporary file(s) left in %s", len(removed), self.root)
        return removed

    # ------------------------------------------------------------ collecting

    def objects(self) -> dict[str, int]:
        """Every stored object: sha256 -> bytes on disk."""
        return self.store.sizes()

    def unfinished_runs(self) -> set[str]:
        """The tokens of the runs whose markers say they have not published yet."""
        tokens: set[str] = set()
        for name in _names(self.root / RUNS):
            if not name.endswith(".json") or name.startswith("."):
                continue
            try:
                token = json.loads((self.root / RUNS / name).read_text("utf-8")).get("token")
            except (OSError, ValueError, AttributeError):
                continue  # a torn marker: its run starts anew, holding nothing
            if isinstance(token, str):
                tokens.add(token)
        return tokens

    def remove_objects(
        self, unneeded: set[str], *, older_than: float = 0.0, dry_run: bool = False
    ) -> dict[str, int]:
        """Remove these objects (those written in the last ``older_than`` seconds
        are spared: a run may be about to name them), and every answer naming
        one. Returns what was removed (``dry_run``: would be): sha256 -> bytes."""
        if not unneeded:
            return {}
        with self.locked():
            removed = self.store.remove(unneeded, older_than=older_than, dry_run=dry_run)
            if not dry_run:
                self._forget_answers(set(removed))
        return removed

    def _forget_answers(self, gone: set[str]) -> None:
        if not gone:
            return
        for utility in sorted(UTILITIES):
            for key in _keys(self.root / ANSWERS / utility):
                entry = self._read_entry(utility, key)
                if entry is None:
                    continue
                kept = tuple(a for a in entry.answers if a.sha256 not in gone)
                if not kept:
                    self._answers_path(utility, key).unlink()
                elif kept != entry.answers:
                    self._write_entry(utility, key, entry.params, kept)

    # ------------------------------------------------------------ the earlier layout

    def migrate(self) -> MigrationReport:
        """Move every entry of the earlier layout into objects and answers.

        Each entry is checked first: a corrupt one is left where it is and
        reported, so nothing is lost. An entry's files are removed only after
        its object and answer are written, so a migration killed at any point
        is finished by running it again.
        """
        report = MigrationReport()
        for utility in sorted(UTILITIES):
            directory = self.root / utility
            for key in _keys(directory):
                self._migrate_one(utility, key, report)
            for name in _names(directory):
                if not _LEGACY_TEMP.fullmatch(name):
                    report.left.append(str(directory / name))
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        return report

    def _migrate_one(self, utility: str, key: str, report: MigrationReport) -> None:
        legacy = self._legacy_entry(utility, key)
        if legacy is None:
            return
        body_path, meta_path = self._legacy_paths(utility, key)
        request = EutilsRequest(utility, tuple(sorted(legacy.params.items())))
        try:
            body = self._legacy_body(request, legacy.answers[0])
        except RawStoreCorruptError as exc:
            report.corrupt.append(str(exc))
            return
        digest = legacy.answers[0].sha256
        try:
            report.objects += self.store.write(digest, body)
            with self.locked():
                current = self._read_entry(utility, key)
                answers = _merge(legacy.answers, current.answers if current else ())
                self._write_entry(utility, key, legacy.params, answers)
            body_path.unlink()
            meta_path.unlink()
        except OSError as exc:
            raise RawStoreError(f"cannot migrate {meta_path}: {exc.strerror}") from exc
        report.entries += 1

    def legacy_entries(self) -> int:
        """How many entries are still in the earlier layout."""
        return sum(len(_keys(self.root / u)) for u in UTILITIES)


@dataclass
class MigrationReport:
    entries: int = 0
    objects: int = 0
    corrupt: list[str] = field(default_factory=list)
    # Files in the earlier layout's directories that are no entry (a torn put's body).
    left: list[str] = field(default_factory=list)


def _add(answers: tuple[Answer, ...], new: Answer) -> tuple[Answer, ...]:
    """``answers`` with ``new`` after them; the same body as the latest moves that
    answer's ``last_run`` on instead (one answer per change, not per night)."""
    if not answers or answers[-1].sha256 != new.sha256:
        return (*answers, new)
    latest = answers[-1]
    if new.run is None or latest.fetched_by(new.run):
        return answers
    return (*answers[:-1], replace(latest, last_run=new.run, last_fetched_at=new.fetched_at))


def _merge(older: tuple[Answer, ...], newer: tuple[Answer, ...]) -> tuple[Answer, ...]:
    """``older`` then ``newer``, an answer already in ``newer`` not repeated."""
    present = {(a.sha256, a.run) for a in newer}
    return (*(a for a in older if (a.sha256, a.run) not in present), *newer)


def _read_json(path: Path) -> Any:
    """The JSON value of a store file, or None if there is no such file."""
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise RawStoreError(f"raw store entry {path} is unreadable: {exc}") from exc


def _parse_entry(path: Path, utility: str, key: str, data: object) -> Entry:
    if not isinstance(data, dict) or not isinstance(data.get("answers"), list):
        raise RawStoreError(f"raw store entry {path} has no 'answers' list")
    answers = []
    for i, a in enumerate(data["answers"]):
        if not (
            isinstance(a, dict)
            and isinstance(a.get("sha256"), str)
            and SHA256.fullmatch(a["sha256"])
            and isinstance(a.get("bytes"), int)
        ):
            raise RawStoreError(f"raw store entry {path}: answers[{i}] lacks a sha256 or bytes")
        text = {k: a.get(k) if isinstance(a.get(k), str) else None for k in _OPTIONAL}
        answers.append(Answer(a["sha256"], a["bytes"], **text))
    return Entry(utility, key, _params(data), tuple(answers))


def _params(data: dict[str, Any]) -> dict[str, str]:
    params = data.get("params")
    if not isinstance(params, dict):
        return {}
    return {str(k): str(v) for k, v in params.items()}


_OPTIONAL = ("run", "fetched_at", "last_run", "last_fetched_at")


def _scan(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            return list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise RawStoreError(f"cannot read raw store {directory}: {exc.strerror}") from exc


def _names(directory: Path) -> list[str]:
    return sorted(e.name for e in _scan(directory) if e.is_file(follow_symlinks=False))


def _keys(directory: Path) -> list[str]:
    """The request keys of the ``<key>.json`` files in ``directory``."""
    names = (n.removesuffix(".json") for n in _names(directory) if n.endswith(".json"))
    return [key for key in names if SHA256.fullmatch(key)]


def _candidates(directory: Path, pattern: re.Pattern[str]) -> list[Path]:
    return [
        Path(e.path)
        for e in _scan(directory)
        if pattern.fullmatch(e.name) and e.is_file(follow_symlinks=False)
    ]


class RunJournal:
    """Marks a run that has not published yet, so the next run resumes it.

    ``runs/<run_id>.json`` holds a token made when the run started. A rerun with
    the same arguments (same ``run_id``) finds the marker and reuses every
    stored answer that token fetched; a run after a published one finds no
    marker, makes a new token, and so fetches everything fresh. The marker is
    removed when the run publishes; ``--fresh`` removes it first. ``gc`` keeps
    every object the answers of an unfinished run name.
    """

    def __init__(self, store: RawStore, run_id: str) -> None:
        self.path = store.root / RUNS / f"{run_id}.json"
        self.run_id = run_id
        # When the run first started (a resumed run's answers may be that old).
        self.started_at: str | None = None

    def start(self) -> tuple[str, bool]:
        """The run's token, and whether it resumes an interrupted run."""
        try:
            marker = json.loads(self.path.read_text("utf-8"))
            token = marker["token"]
            if isinstance(token, str) and token.startswith(self.run_id):
                started = marker.get("started_at")
                self.started_at = started if isinstance(started, str) else None
                return token, True
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a torn marker: start a new run (nothing is lost but time)
        token = f"{self.run_id}-{secrets.token_hex(8)}"
        self.started_at = _now()
        try:
            marker = {"token": token, "started_at": self.started_at}
            atomic_write(self.path, json.dumps(marker).encode())
        except OSError as exc:
            raise RawStoreError(
                f"cannot write to raw store {self.path.parent}: {exc.strerror}"
            ) from exc
        return token, False

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


# ------------------------------------------------------------------ provenance

PROVENANCE = "provenance.json"
LIVE_SOURCE = "eutils"
DEMO_SOURCE = "demo"  # the shipped demo store, never written


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a raw store's answers came from; a store without a marker holds NCBI's.

    The shipped demo store carries a marker (``source: demo``) naming the columns
    its hand-written answers fill with placeholders, so every snapshot built from
    it says so in its manifest, and readers can warn instead of showing them as facts.
    """

    source: str = LIVE_SOURCE
    placeholder_columns: tuple[str, ...] = ()


def read_provenance(root: Path) -> Provenance:
    path = root / PROVENANCE
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return Provenance()
    except (OSError, ValueError) as exc:
        raise RawStoreError(f"raw store marker {path} is unreadable: {exc}") from exc
    source = data.get("source") if isinstance(data, dict) else None
    columns = data.get("placeholder_columns", []) if isinstance(data, dict) else None
    if not isinstance(source, str) or not source or not isinstance(columns, list):
        raise RawStoreError(
            f"raw store marker {path} needs a 'source' string and a 'placeholder_columns' list"
        )
    if not all(isinstance(c, str) for c in columns):
        raise RawStoreError(f"raw store marker {path}: 'placeholder_columns' must be strings")
    return Provenance(source, tuple(columns))


def write_provenance(root: Path, provenance: Provenance) -> None:
    data = {
        "source": provenance.source,
        "placeholder_columns": list(provenance.placeholder_columns),
    }
    atomic_write(root / PROVENANCE, _json_bytes(data))
