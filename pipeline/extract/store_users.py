"""The output directories a raw store serves, so that ``gc`` in one keeps what the
others need.

A raw store may be shared (``--raw-dir``) by several output directories: nightly
builds of different concept lists, a rebuild's ``--into``. ``gc`` in one of them
removes every object no kept snapshot needs, and so, knowing only its own, would
take answers the others' snapshots were built from and can no longer be rebuilt
without. Every build that uses a store therefore leaves its output directory's
name there::

    <raw>/outputs/<first 16 hex of the sha256 of the path>.json   {"out_dir": "/abs/path"}

and ``gc`` keeps what every snapshot of each of them needs. An output directory
that is gone is forgotten by the next ``gc``. Output directories that used the
store before their first build of this release are not known until that build.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pipeline.errors import RawStoreError
from pipeline.extract.objects import atomic_write

OUTPUTS = "outputs"


def _name(out_dir: Path) -> str:
    return hashlib.sha256(str(out_dir).encode()).hexdigest()[:16] + ".json"


def register_output(raw_dir: Path, out_dir: Path) -> None:
    """Note that ``out_dir`` builds from ``raw_dir`` (once; later calls change nothing)."""
    where = out_dir.resolve()
    path = raw_dir / OUTPUTS / _name(where)
    if path.is_file():
        return
    try:
        atomic_write(path, json.dumps({"out_dir": str(where)}).encode())
    except OSError as exc:
        raise RawStoreError(f"cannot note {where} in the raw store {raw_dir}: {exc}") from exc


def served_outputs(raw_dir: Path) -> list[Path]:
    """Every output directory noted in ``raw_dir``, sorted; a torn note is passed over
    (its build writes it again)."""
    found: set[Path] = set()
    folder = raw_dir / OUTPUTS
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise RawStoreError(f"cannot list {folder}: {exc.strerror or exc}") from exc
    for name in names:
        if name.startswith(".") or not name.endswith(".json"):
            continue
        try:
            noted = json.loads((folder / name).read_text("utf-8")).get("out_dir")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(noted, str) and noted:
            found.add(Path(noted))
    return sorted(found)


def forget_output(raw_dir: Path, out_dir: Path) -> None:
    (raw_dir / OUTPUTS / _name(out_dir.resolve())).unlink(missing_ok=True)
