"""Nights against the loopback fake E-utilities whose world changes between them.

Night 2 gets newer answers to the same requests (a corrected article, a renamed
concept: same request keys, new bodies); night 3 a new linked article and a
removed link. Used by the rebuild and gc tests.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pipeline.config import Settings
from pipeline.load.manifest import CHANGES_FILE
from pipeline.rebuild import RebuildResult, rebuild
from pipeline.runner import BuildResult
from tests.fakes.dataset import Dataset, parse_article, pubmed_article
from tests.fakes.eutils_server import FakeEutils
from tests.fakes.world import FIRST_PMID, WORLD_CUIS, report_world
from tests.support import build_live, live_settings


def parquet_bytes(snapshot: Path) -> dict[str, bytes]:
    """Every Parquet file's bytes, but the changes table's (told against each one's parent)."""
    files = {p.relative_to(snapshot).as_posix(): p for p in snapshot.rglob("*.parquet")}
    return {rel: p.read_bytes() for rel, p in files.items() if rel != CHANGES_FILE}


def newer_answers(world: Dataset) -> None:
    """Night 2: the same requests are answered differently (same keys, new bodies)."""
    pmid = FIRST_PMID + 3
    world.articles[pmid] = parse_article(
        pubmed_article(pmid, year=1998, month=4, day=4, title="Synthetic finding, corrected.")
    )
    concept = world.concepts["7100002"]
    world.concepts["7100002"] = dataclasses.replace(concept, title="Mockosis, renamed")


def new_links(world: Dataset) -> None:
    """Night 3: a new linked article, and a link removed."""
    pmid = FIRST_PMID + 60
    world.articles[pmid] = parse_article(pubmed_article(pmid, year=2025, title="A new finding."))
    world.links["7100001"].append(pmid)
    world.links["7100003"].remove(FIRST_PMID + 1)


def three_nights(out: Path, fake: FakeEutils, world: Dataset) -> list[BuildResult]:
    results = [build_live(fake, out, *WORLD_CUIS)]
    newer_answers(world)
    results.append(build_live(fake, out, *WORLD_CUIS))
    new_links(world)
    results.append(build_live(fake, out, *WORLD_CUIS))
    return results


def published_nights(tmp_path: Path) -> tuple[Path, list[BuildResult]]:
    out = tmp_path / "out"
    world = report_world()
    with FakeEutils(world) as fake:
        return out, three_nights(out, fake, world)


def rebuild_night(out: Path, night: BuildResult, into: Path) -> RebuildResult:
    settings = offline_settings(into)
    return rebuild(settings, night.snapshot, raw_dir=out / "raw", into=into)


def offline_settings(out: Path) -> Settings:
    # No server is needed: a rebuild never sends a request.
    with FakeEutils(Dataset()) as nobody:
        return live_settings(nobody, out)
