"""Shared fixtures: where the real NCBI samples and the demo dataset live."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Live runs share their rate limit through the user's cache: the tests use their own."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if saved is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = saved


def cache_env() -> dict[str, str]:
    """The tests' cache directory, for the environment of a subprocess."""
    return {"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]}


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


@pytest.fixture(scope="session")
def whole_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bulk snapshot of the whole-record fixture (retractions, MeSH ...), built once."""
    from tests.support import whole_snapshot as build_whole

    return build_whole(tmp_path_factory.mktemp("whole"))
