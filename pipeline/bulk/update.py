"""``bulk --update``: whether tonight's PubMed files can extend the current snapshot.

An update applies only the PubMed files the current snapshot's manifest does not
list, over that snapshot, and must publish the very tables a full ``bulk`` over
every file would. That holds only when the snapshot was made by ``bulk`` with the
same table-shaping arguments and MedGen files, every file it lists is still
there unchanged, and every new file comes after them in NCBI's order. Anything
else is refused here, before a file is parsed, with an UpdateRefusedError that
says what differs and to run a full ``bulk``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import NoSnapshotError, UpdateRefusedError
from pipeline.extract.input_digests import InputDigests
from pipeline.load.layout import SNAPSHOTS
from pipeline.load.manifest import Bulk, Json, Manifest, MedgenFile, PubmedFile, Run
from pipeline.load.reader import PublishedSnapshot, open_snapshot
from pipeline.models import Category
from pipeline.transform import evidence

UPDATE_MODE = "update"  # run.mode of a snapshot that carried its parent forward
FULL = "run a full `medgen-etl bulk` instead"
# The run arguments that shape the tables (the MedGen files are compared by content).
SHAPING = ("tables", "evidence", "concepts", "all_concepts", "per_category", "online")
_YEAR = re.compile(r"^pubmed(\d+)n\d+\.xml(\.gz)?$")
# Tables an update reads back: versions from articles, MeSH evidence from its lists.
_NEEDS = {"articles": "the records' versions (articles.pmid_version)"}
_MESH_NEEDS = ("mesh_headings", "supplementary_concepts")


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    snapshot: PublishedSnapshot
    carried: tuple[PubmedFile, ...]  # the files the snapshot lists, in its order
    new: tuple[Path, ...]  # the files to apply over it, in NCBI's order

    @property
    def manifest(self) -> Manifest:
        return self.snapshot.manifest


def plan_update(
    out_dir: Path,
    parent: str | None,
    files: Sequence[Path],
    arguments: Mapping[str, Json],
    medgen: Sequence[MedgenFile],
    categories: Sequence[Category],
    digests: InputDigests,
) -> UpdatePlan:
    """The current snapshot (``parent``) and the files to apply, or UpdateRefusedError.

    ``files``: every PubMed file given, ordered as a full run orders them;
    ``arguments``: this run's; ``medgen``: this run's MedGen files (name, size, sha256);
    ``digests``: the listed files' sha256, hashed only when the cache cannot vouch.
    """
    if parent is None:
        raise NoSnapshotError(f"no current snapshot in {out_dir} for --update to extend: {FULL}")
    snapshot = open_snapshot(out_dir / SNAPSHOTS / parent)
    manifest = snapshot.manifest
    run, bulk = _made_by_bulk(parent, manifest)
    _check_arguments(parent, run.arguments, arguments, categories == manifest.categories.config)
    _check_medgen_files(parent, bulk.medgen_files, medgen)
    carried = _listed_files(parent, bulk)
    listed = {f.name for f in carried}
    _check_new(carried, [p for p in files if p.name not in listed])
    _check_carried(parent, carried, files, digests)
    return UpdatePlan(snapshot, carried, tuple(files[len(carried) :]))


def _made_by_bulk(parent: str, manifest: Manifest) -> tuple[Run, Bulk]:
    run, bulk = manifest.run, manifest.bulk
    if manifest.source == "bulk" and bulk is not None and run is not None and run.command == "bulk":
        return run, bulk
    made = "an older medgen-etl" if run is None else f"`{run.command}`"
    raise UpdateRefusedError(
        f"the current snapshot {parent} was made by {made}, not by `bulk`: "
        f"--update extends a bulk snapshot only; {FULL}"
    )


def _check_arguments(
    parent: str, before: Mapping[str, Json], arguments: Mapping[str, Json], same_categories: bool
) -> None:
    for key in SHAPING:
        if before.get(key) != arguments.get(key):
            raise UpdateRefusedError(
                f"--update needs the arguments the current snapshot {parent} was made with: "
                f"{key} was {before.get(key)!r}, now {arguments.get(key)!r}; {FULL}"
            )
    if not same_categories:
        raise UpdateRefusedError(
            f"the categories differ from those of the current snapshot {parent}; {FULL}"
        )
    if arguments.get("online"):
        raise UpdateRefusedError(
            "--update reads PubMed files only: with --online the searches and the records "
            f"fetched for them change from night to night; {FULL}"
        )
    tables = arguments.get("tables") or ()
    needs = dict(_NEEDS)
    if evidence.MESH in (arguments.get("evidence") or ()):
        needs.update(dict.fromkeys(_MESH_NEEDS, "the records' MeSH ids (--evidence mesh)"))
    for table, why in needs.items():
        if table not in tables:
            raise UpdateRefusedError(
                f"--update reads {why} back from the current snapshot, which has no "
                f"{table} table (--tables); {FULL}"
            )


def _check_medgen_files(
    parent: str, before: Sequence[MedgenFile], now: Sequence[MedgenFile]
) -> None:
    then = {f.name: f for f in before}
    given = {f.name: f for f in now}
    for name in sorted(then.keys() | given.keys()):
        old, new = then.get(name), given.get(name)
        if old is None or new is None:
            which = (
                "read by the current snapshot but not given now"
                if new is None
                else ("given now but not read by the current snapshot")
            )
            raise UpdateRefusedError(f"the MedGen file {name} is {which} ({parent}); {FULL}")
        if (old.bytes, old.sha256) != (new.bytes, new.sha256):
            raise UpdateRefusedError(
                f"the MedGen file {name} differs from the one the current snapshot {parent} "
                f"read (sha256 {new.sha256[:12]}…, was {old.sha256[:12]}…); {FULL}"
            )


def _listed_files(parent: str, bulk: Bulk) -> tuple[PubmedFile, ...]:
    listed = tuple(sorted(bulk.files, key=lambda f: f.index))
    if [f.index for f in listed] != list(range(len(listed))) or not listed:
        raise UpdateRefusedError(
            f"the manifest of the current snapshot {parent} does not list its PubMed files "
            f"as one run of them; {FULL}"
        )
    return listed


def _check_carried(
    parent: str, carried: Sequence[PubmedFile], files: Sequence[Path], digests: InputDigests
) -> None:
    """Each file the snapshot lists is given again, unchanged, in the same place."""
    names = {p.name: p for p in files}
    for i, listed in enumerate(carried):
        path = names.get(listed.name)
        if path is None:
            raise UpdateRefusedError(
                f"{listed.name}, which the current snapshot {parent} was built from, is not "
                f"among the --pubmed files; {FULL}"
            )
        if files[i] != path:
            raise UpdateRefusedError(
                f"{files[i].name} is not listed by the current snapshot {parent} and comes "
                f"before {listed.name}, which it applied: a new baseline or a late file; {FULL}"
            )
        if listed.bytes is None or listed.sha256 is None:
            raise UpdateRefusedError(
                f"the current snapshot {parent} does not say the size and sha256 of "
                f"{listed.name}, so it cannot be checked; {FULL}"
            )
        size, digest = _size_first(path, listed.bytes, digests)
        if (size, digest) != (listed.bytes, listed.sha256):
            raise UpdateRefusedError(
                f"{path} differs from the {listed.name} the current snapshot {parent} was "
                f"built from ({size} bytes, was {listed.bytes}; sha256 "
                f"{(digest or '?')[:12]}…, was {listed.sha256[:12]}…); {FULL}"
            )


def _size_first(path: Path, size: int, digests: InputDigests) -> tuple[int, str | None]:
    """(bytes, sha256) of ``path``; a file of another size is not hashed."""
    try:
        found = path.stat().st_size
    except OSError:
        found = -1
    return (found, None) if found != size else digests.digest(path)


def _check_new(carried: Sequence[PubmedFile], new: Sequence[Path]) -> None:
    years = {_year(f.name) for f in carried}
    for path in new:
        year = _year(path.name)
        if path.parent.name == "baseline" or year is None or year not in years:
            raise UpdateRefusedError(
                f"{path.name} is a new baseline (year {year or 'unknown'}; the current "
                f"snapshot holds {', '.join(sorted(y or '?' for y in years))}): "
                f"a new baseline replaces every record; {FULL}"
            )


def _year(name: str) -> str | None:
    match = _YEAR.match(name)
    return match.group(1) if match else None
