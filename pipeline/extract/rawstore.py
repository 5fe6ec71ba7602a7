"""The raw layer: every complete response body, kept by its request's key.

Layout under the store's root::

    <utility>/<key>.xml    the body, byte for byte as NCBI sent it
    <utility>/<key>.json   the canonical request (no secrets), sha256, size, and
                           the token of the run that fetched it
    runs/<run_id>.json     the marker of a run that has not published yet

Files are written to a temporary name, flushed and renamed, so a reader (or a
run killed mid-write) never sees half a body. The sidecar is written after the
body and names its sha256: an entry is only an entry when both agree. Because
the sidecar also names the run, "which responses does this run already hold"
is answered by the store itself: no second write that a kill could tear.

A put removes the old sidecar before it writes the new body, so a put torn by
a kill leaves a body without a sidecar (no entry), never a mismatched pair: a
body that does not match its sidecar has been damaged after it was stored, and
is reported as corrupt. Temporary files a kill left behind (``.<name>.*.tmp``)
are removed by the next run that writes the store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import RawStoreCorruptError, SnapshotError
from pipeline.extract.request import UTILITIES, EutilsRequest

log = logging.getLogger(__name__)

# The temporary names atomic_write gives (".<name>." + mkstemp's random part + ".tmp")
# to what the store writes: bodies and sidecars named by their key, run markers.
_ENTRY_TEMP = re.compile(r"\.[0-9a-f]{64}\.(?:xml|json)\.[A-Za-z0-9_]+\.tmp")
_MARKER_TEMP = re.compile(r"\.[0-9A-Za-z_-]+\.json\.[A-Za-z0-9_]+\.tmp")


@dataclass(frozen=True, slots=True)
class StoredResponse:
    utility: str
    key: str
    sha256: str
    size: int
    run: str | None = None


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RawStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _paths(self, request: EutilsRequest) -> tuple[Path, Path]:
        base = self.root / request.utility / request.key
        return base.with_suffix(".xml"), base.with_suffix(".json")

    def get(self, request: EutilsRequest) -> tuple[bytes, StoredResponse] | None:
        body_path, meta_path = self._paths(request)
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            body = body_path.read_bytes()
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"raw store entry {meta_path} is unreadable: {exc}") from exc
        digest = hashlib.sha256(body).hexdigest()
        if digest != meta.get("sha256"):
            # put() never leaves a mismatched pair (see the module's docstring):
            # this body was changed after it was stored.
            raise RawStoreCorruptError(
                f"raw store entry {body_path} ({request.describe()}) is corrupt: "
                f"{len(body)} bytes with sha256 {digest[:12]}..., but its sidecar names "
                f"{meta.get('bytes')} bytes with sha256 {str(meta.get('sha256'))[:12]}...",
                path=str(body_path),
            )
        run = meta.get("run") if isinstance(meta.get("run"), str) else None
        return body, StoredResponse(request.utility, request.key, digest, len(body), run)

    def put(self, request: EutilsRequest, body: bytes, *, run: str | None = None) -> StoredResponse:
        body_path, meta_path = self._paths(request)
        digest = hashlib.sha256(body).hexdigest()
        try:
            # Without its old sidecar, a body torn by a kill is no entry, not a corrupt one.
            meta_path.unlink(missing_ok=True)
            atomic_write(body_path, body)
            meta: dict[str, object] = {
                "utility": request.utility,
                "params": request.param_dict,
                "sha256": digest,
                "bytes": len(body),
            }
            if run is not None:
                meta["run"] = run
            atomic_write(meta_path, (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode())
        except OSError as exc:
            raise SnapshotError(f"cannot write to raw store {self.root}: {exc.strerror}") from exc
        return StoredResponse(request.utility, request.key, digest, len(body), run)

    def remove_orphan_temps(self, *, older_than: float = 0.0) -> list[Path]:
        """Remove the temporary files a killed write left; return them.

        Only names the store itself gives (an entry's or a run marker's temporary
        name, in its own directories): nothing else under the root is touched.
        ``older_than`` (seconds) spares files another process may still be writing.
        """
        removed: list[Path] = []
        places = [(self.root / u, _ENTRY_TEMP) for u in sorted(UTILITIES)]
        places.append((self.root / "runs", _MARKER_TEMP))
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
                    raise SnapshotError(f"cannot remove {path}: {exc.strerror}") from exc
        if removed:
            log.info("removed %d temporary file(s) left in %s", len(removed), self.root)
        return removed


def _candidates(directory: Path, pattern: re.Pattern[str]) -> list[Path]:
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise SnapshotError(f"cannot read raw store {directory}: {exc.strerror}") from exc
    return [
        Path(e.path)
        for e in entries
        if pattern.fullmatch(e.name) and e.is_file(follow_symlinks=False)
    ]


class RunJournal:
    """Marks a run that has not published yet, so the next run resumes it.

    ``runs/<run_id>.json`` holds a token made when the run started. A rerun with
    the same arguments (same ``run_id``) finds the marker and reuses every
    stored response whose sidecar carries that token; a run after a published
    one finds no marker, makes a new token, and so fetches everything fresh.
    The marker is removed when the run publishes; ``--fresh`` removes it first.
    """

    def __init__(self, store: RawStore, run_id: str) -> None:
        self.path = store.root / "runs" / f"{run_id}.json"
        self.run_id = run_id

    def start(self) -> tuple[str, bool]:
        """The run's token, and whether it resumes an interrupted run."""
        try:
            token = json.loads(self.path.read_text("utf-8"))["token"]
            if isinstance(token, str) and token.startswith(self.run_id):
                return token, True
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a torn marker: start a new run (nothing is lost but time)
        token = f"{self.run_id}-{secrets.token_hex(8)}"
        try:
            atomic_write(self.path, json.dumps({"token": token}).encode())
        except OSError as exc:
            raise SnapshotError(
                f"cannot write to raw store {self.path.parent}: {exc.strerror}"
            ) from exc
        return token, False

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


# ------------------------------------------------------------------ provenance

PROVENANCE = "provenance.json"
LIVE_SOURCE = "eutils"


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
        raise SnapshotError(f"raw store marker {path} is unreadable: {exc}") from exc
    source = data.get("source") if isinstance(data, dict) else None
    columns = data.get("placeholder_columns", []) if isinstance(data, dict) else None
    if not isinstance(source, str) or not source or not isinstance(columns, list):
        raise SnapshotError(
            f"raw store marker {path} needs a 'source' string and a 'placeholder_columns' list"
        )
    if not all(isinstance(c, str) for c in columns):
        raise SnapshotError(f"raw store marker {path}: 'placeholder_columns' must be strings")
    return Provenance(source, tuple(columns))


def write_provenance(root: Path, provenance: Provenance) -> None:
    data = {
        "source": provenance.source,
        "placeholder_columns": list(provenance.placeholder_columns),
    }
    atomic_write(root / PROVENANCE, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())
