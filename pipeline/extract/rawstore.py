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
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import SnapshotError
from pipeline.extract.request import EutilsRequest


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
            # A body that does not match its sidecar was not written by a
            # finished put(); treat it as absent so it gets fetched again.
            return None
        run = meta.get("run") if isinstance(meta.get("run"), str) else None
        return body, StoredResponse(request.utility, request.key, digest, len(body), run)

    def put(self, request: EutilsRequest, body: bytes, *, run: str | None = None) -> StoredResponse:
        body_path, meta_path = self._paths(request)
        digest = hashlib.sha256(body).hexdigest()
        try:
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
