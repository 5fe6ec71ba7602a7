"""The raw layer: every complete response body, kept by its request's key.

Layout under the store's root::

    <utility>/<key>.xml    the body, byte for byte as NCBI sent it
    <utility>/<key>.json   the canonical request (no secrets), sha256 and size
    runs/<run_id>.jsonl    the journal of a run that has not published yet

Files are written to a temporary name, flushed and renamed, so a reader (or a
run killed mid-write) never sees half a body. The sidecar is written after the
body and names its sha256: an entry is only an entry when both agree.
"""

from __future__ import annotations

import hashlib
import json
import os
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
        return body, StoredResponse(request.utility, request.key, digest, len(body))

    def put(self, request: EutilsRequest, body: bytes) -> StoredResponse:
        body_path, meta_path = self._paths(request)
        digest = hashlib.sha256(body).hexdigest()
        try:
            atomic_write(body_path, body)
            meta = {
                "utility": request.utility,
                "params": request.param_dict,
                "sha256": digest,
                "bytes": len(body),
            }
            atomic_write(meta_path, (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode())
        except OSError as exc:
            raise SnapshotError(f"cannot write to raw store {self.root}: {exc.strerror}") from exc
        return StoredResponse(request.utility, request.key, digest, len(body))


class RunJournal:
    """Which responses an unpublished run already holds, so a rerun resumes.

    One JSON line per stored response, appended and flushed as it lands. The
    journal is removed when the run publishes; ``--fresh`` removes it first.
    """

    def __init__(self, store: RawStore, run_id: str) -> None:
        self.path = store.root / "runs" / f"{run_id}.jsonl"

    def load(self) -> dict[str, str]:
        try:
            lines = self.path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return {}
        held: dict[str, str] = {}
        for line in lines:
            try:
                entry = json.loads(line)
                held[entry["key"]] = entry["sha256"]
            except (ValueError, KeyError, TypeError):
                continue  # a line torn by a kill: that response is fetched again
        return held

    def record(self, stored: StoredResponse) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"key": stored.key, "sha256": stored.sha256}) + "\n"
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
