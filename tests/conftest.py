"""Shared fixtures: where the real NCBI samples and the demo dataset live."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "ncbi-samples"
DEMO_DATASET = ROOT / "tests" / "data" / "c4725027"
REFERENCE_PAGE = ROOT.parent / "shared" / "seed" / "medgen-C4725027-page.txt"
# Where the samples hold PubMed EFetch answers (globs relative to SAMPLES).
PUBMED_SAMPLE_GLOBS = (
    "biopython/pubmed*.xml",
    "eutils-json/efetch.*.xml",
    "metapub/pmid_*.xml",
    "metapub/pmid_xml/*.xml",
    "bulk/*.xml",
    "bulk/*.xml.gz",
)


@pytest.fixture
def samples() -> Path:
    """../shared/ncbi-samples, or a skip saying why (a fresh clone has no such folder)."""
    if not SAMPLES.is_dir():
        pytest.skip(f"real NCBI samples not present at {SAMPLES} (outside the repository)")
    return SAMPLES


@pytest.fixture(scope="session")
def demo_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo snapshot (an offline build of pipeline/demo/raw), built once per session."""
    from tests.support import demo_snapshot as build_demo

    return build_demo(tmp_path_factory.mktemp("demo-out"))


@pytest.fixture(scope="session")
def world_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot of the fake world's four concepts, built once per session."""
    from tests.support import world_snapshot as build_world

    return build_world(tmp_path_factory.mktemp("world-out"))
