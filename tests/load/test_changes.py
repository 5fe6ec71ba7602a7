"""The changes table every snapshot holds, against its parent, on both paths."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.bulk.runner import BulkOptions, bulk_build
from pipeline.config import load_settings
from pipeline.load import schemas
from pipeline.load.changes import CITED, SideTables, sides
from pipeline.load.manifest import CHANGES_FILE, content_hash, load_manifest
from pipeline.load.parquet import PARQUET_OPTIONS
from pipeline.load.snapshot import verify
from pipeline.runner import BuildResult
from pipeline.transform.changes import Cited, Side, compare
from tests.bulk.test_bulk import DELETED, REPLACED, VERSIONED, medgen_input
from tests.bulk.test_bulk import write_baseline_and_update as baseline_and_update
from tests.fakes.dataset import Dataset, parse_article, pubmed_article
from tests.fakes.eutils_server import FakeEutils
from tests.fakes.world import FIRST_PMID, report_world
from tests.support import build_live

CUIS = ("C9100001", "C9100003")
MODIFIED, ADDED, REMOVED, RETRACTED = (
    FIRST_PMID + 3,
    FIRST_PMID + 60,
    FIRST_PMID + 1,
    FIRST_PMID + 5,
)


def changes(snapshot: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pq.read_table(snapshot / CHANGES_FILE).to_pylist()
    return rows


def cited(snapshot: Path, cui: str, pmid: int) -> dict[str, int]:
    """category -> rank of ``pmid`` among ``cui``'s citations in ``snapshot``."""
    out = {}
    for path in sorted(snapshot.glob("citations/category=*/part-0.parquet")):
        category = path.parent.name.removeprefix("category=")
        for row in pq.read_table(path).to_pylist():
            if (row["cui"], row["pmid"]) == (cui, pmid):
                out[category] = row["rank"]
    return out


def night_two(world: Dataset) -> None:
    """A corrected article, a new linked one, a link removed, a retraction."""
    world.articles[MODIFIED] = parse_article(
        pubmed_article(MODIFIED, year=1998, month=4, day=4, title="Synthetic finding, corrected.")
    )
    world.articles[ADDED] = parse_article(pubmed_article(ADDED, year=2025, title="A new finding."))
    world.links["7100001"].append(ADDED)
    first = next(iter(world.filters))
    world.filters[first] = world.filters[first] | {ADDED}
    world.links["7100003"].remove(REMOVED)
    types = ("Journal Article", "Retracted Publication")
    world.articles[RETRACTED] = parse_article(
        pubmed_article(RETRACTED, year=1995, month=6, day=6, publication_types=types)
    )


def two_nights(out: Path) -> tuple[BuildResult, BuildResult]:
    """Two builds of CUIS into ``out``, the world changed between them (night_two)."""
    world = report_world()
    with FakeEutils(world) as fake:
        one = build_live(fake, out, *CUIS)
        night_two(world)
        two = build_live(fake, out, *CUIS)
    return one, two


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildResult, BuildResult]:
    return two_nights(tmp_path_factory.mktemp("changes") / "out")


Row = tuple[str, str, int, str, int | None, int | None]


def expected_rows(one: Path, two: Path) -> list[Row]:
    """What night two changed, from where each PMID is cited on each night."""
    rows: list[Row] = []
    for cui in CUIS:
        for pmid, kind in ((MODIFIED, "modified"), (RETRACTED, "retracted")):
            before, after = cited(one, cui, pmid), cited(two, cui, pmid)
            assert before.keys() == after.keys()
            rows += [(cui, c, pmid, kind, after[c], before[c]) for c in before]
    rows += [
        ("C9100001", c, ADDED, "added", r, None) for c, r in cited(two, "C9100001", ADDED).items()
    ]
    rows += [
        ("C9100003", c, REMOVED, "removed", None, r)
        for c, r in cited(one, "C9100003", REMOVED).items()
    ]
    return sorted(rows)


def test_the_first_snapshot_has_every_citation_added(nights):
    one, _ = nights
    rows = changes(one.snapshot)
    citations = sum(
        pq.read_table(p).num_rows for p in one.snapshot.glob("citations/category=*/part-0.parquet")
    )
    assert len(rows) == citations > 0
    assert {r["change"] for r in rows} == {"added"}
    assert all(r["previous_rank"] is None for r in rows)
    assert one.manifest["changes"] == {
        "added": citations,
        "removed": 0,
        "modified": 0,
        "retracted": 0,
    }
    assert not [w for w in one.manifest["warnings"] if w.startswith("changes:")]


def test_night_two_names_exactly_the_added_removed_modified_and_retracted_citations(nights):
    one, two = nights
    rows = changes(two.snapshot)
    got = [
        (r["cui"], r["category"], r["pmid"], r["change"], r["rank"], r["previous_rank"])
        for r in rows
    ]
    want = expected_rows(one.snapshot, two.snapshot)
    assert {w[3] for w in want} == {"added", "removed", "modified", "retracted"}
    assert got == want  # sorted by cui, category, pmid; rank moves alone are no change
    counts = {
        k: sum(1 for w in want if w[3] == k) for k in ("added", "removed", "modified", "retracted")
    }
    assert two.manifest["changes"] == counts
    assert two.manifest["parent"] == one.snapshot.name


def test_the_changes_table_has_its_schema_and_is_listed_and_checked(nights):
    _, two = nights
    assert pq.read_schema(two.snapshot / CHANGES_FILE) == schemas.CHANGES
    manifest = verify(two.snapshot)
    assert manifest.files[CHANGES_FILE].rows == len(changes(two.snapshot))
    assert load_manifest(two.snapshot).changes == two.manifest["changes"]


def test_a_parent_removed_from_disk_is_a_warning_and_no_change_told(tmp_path):
    world = report_world()
    with FakeEutils(world) as fake:
        one = build_live(fake, tmp_path, "C9100001")
        shutil.rmtree(one.snapshot)
        two = build_live(fake, tmp_path, "C9100001")
    assert changes(two.snapshot) == []
    [warning] = [w for w in two.manifest["warnings"] if w.startswith("changes:")]
    assert one.snapshot.name in warning
    assert "is gone" in warning
    assert "no change could be told" in warning


def test_a_parent_without_articles_tells_added_and_removed_and_warns_of_modified(tmp_path):
    world = report_world()
    with FakeEutils(world) as fake:
        one = build_live(fake, tmp_path, "C9100001", tables=("citations",))
        night_two(world)
        two = build_live(fake, tmp_path, "C9100001")
    kinds = {r["change"] for r in changes(two.snapshot)}
    assert kinds == {"added", "retracted"}  # the corrected article is not told modified
    [warning] = [w for w in two.manifest["warnings"] if w.startswith("changes:")]
    assert f"snapshot {one.snapshot.name} has no articles table" in warning
    assert "modified records could not be told" in warning


def test_a_parent_without_record_digests_tells_no_modified_and_says_so(tmp_path):
    world = report_world()
    with FakeEutils(world) as fake:
        one = build_live(fake, tmp_path, "C9100001")
        _drop_record_sha256(one.snapshot)
        night_two(world)
        two = build_live(fake, tmp_path, "C9100001")
    assert "modified" not in {r["change"] for r in changes(two.snapshot)}
    [warning] = [w for w in two.manifest["warnings"] if w.startswith("changes:")]
    assert "has no record_sha256 (an older snapshot)" in warning


def _drop_record_sha256(snapshot: Path) -> None:
    """The snapshot as an older release wrote it: articles without the digest column,
    the manifest's entry and content hash made anew so the checked readers accept it."""
    rel = "articles/part-0.parquet"
    path = snapshot / rel
    table = pq.read_table(path).drop_columns(["record_sha256"])
    path.chmod(0o644)
    pq.write_table(table, path, **PARQUET_OPTIONS)
    manifest = json.loads((snapshot / "manifest.json").read_text("utf-8"))
    data = path.read_bytes()
    manifest["files"][rel] = {
        "rows": table.num_rows, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()
    }  # fmt: skip
    manifest["content_hash"] = content_hash(manifest)
    (snapshot / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True), "utf-8")


def test_a_run_without_a_citations_table_writes_an_empty_changes_table_and_says_why(tmp_path):
    world = report_world()
    with FakeEutils(world) as fake:
        build_live(fake, tmp_path, "C9100001")
        two = build_live(fake, tmp_path, "C9100001", tables=("articles",))
    assert changes(two.snapshot) == []
    [warning] = [w for w in two.manifest["warnings"] if w.startswith("changes:")]
    assert "this snapshot has no citations table" in warning


def test_a_bulk_run_over_a_parent_bulk_snapshot_writes_the_changes_table(tmp_path):
    baseline, update = baseline_and_update(tmp_path / "ftp")
    settings = load_settings(env={}, overrides={"out_dir": tmp_path / "out"})
    one, _ = bulk_build(
        settings, medgen_input(), BulkOptions(pubmed=(baseline,), executor="serial")
    )
    two, manifest = bulk_build(
        settings, medgen_input(), BulkOptions(pubmed=(baseline, update), executor="serial")
    )
    assert manifest["parent"] == one.name
    rows = changes(two)
    by_pmid: dict[int, set[str]] = {}
    for r in rows:
        by_pmid.setdefault(r["pmid"], set()).add(r["change"])
    assert by_pmid == {REPLACED: {"modified"}, VERSIONED: {"modified"}, DELETED: {"removed"}}
    for pmid in (REPLACED, VERSIONED, DELETED):
        assert {r["category"] for r in rows if r["pmid"] == pmid} == set(
            cited(one, "C4725027", pmid)
        )
    assert manifest["changes"]["modified"] == sum(1 for r in rows if r["change"] == "modified")
    assert pq.read_schema(two / CHANGES_FILE) == schemas.CHANGES


def test_a_manifest_written_before_the_changes_table_loads_with_no_changes(nights, tmp_path):
    _, two = nights
    older = tmp_path / two.snapshot.name
    shutil.copytree(two.snapshot, older)
    manifest = json.loads((older / "manifest.json").read_text("utf-8"))
    del manifest["changes"]
    del manifest["files"][CHANGES_FILE]
    (older / CHANGES_FILE).unlink()
    assert content_hash(manifest) == manifest["content_hash"]  # neither was in the hash
    (older / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    assert verify(older).changes is None


def _random_side(rng: random.Random) -> tuple[SideTables, Side]:
    """One side as Arrow tables and as the plain values compare takes."""
    plain: dict[tuple[str, str], dict[int, Cited]] = {}
    tables = {}
    for category in ("therapy", "etiology"):
        rows = []
        for cui in ("C1", "C2"):
            pmids = rng.sample(range(1, 13), rng.randint(0, 8))
            for rank, pmid in enumerate(pmids, start=1):
                flag = rng.random() < 0.3
                rows.append({"cui": cui, "pmid": pmid, "rank": rank, "retracted": flag})
                plain.setdefault((cui, category), {})[pmid] = Cited(rank, flag)
        tables[category] = pa.Table.from_pylist(rows, schema=CITED)
    digests = {p: rng.choice("ab") for p in range(1, 13)}
    table = pa.table(
        {"pmid": pa.array(list(digests), pa.int64()), "record_sha256": list(digests.values())}
    )
    return SideTables(tables, table, ()), Side(plain, digests)


@pytest.mark.parametrize("seed", range(40))
def test_the_arrow_preselection_changes_nothing_that_compare_tells(seed):
    rng = random.Random(seed)
    (old_tables, old), (new_tables, new) = _random_side(rng), _random_side(rng)
    assert compare(*sides(old_tables, new_tables)) == compare(old, new)
    narrowed = compare(*sides(old_tables, new_tables, "C2", "therapy"))
    assert narrowed == [c for c in compare(old, new) if (c.cui, c.category) == ("C2", "therapy")]
