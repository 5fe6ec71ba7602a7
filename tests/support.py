"""Helpers for tests that run whole builds against the loopback fake E-utilities."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.config import Settings, load_settings
from pipeline.models import ConceptRef
from pipeline.refs import parse_concept_ref
from pipeline.runner import BuildOptions, BuildResult, build
from tests.conftest import DEMO_DATASET
from tests.fakes.dataset import Dataset
from tests.fakes.eutils_server import FakeEutils

TEST_EMAIL = "tests@medgen-etl.invalid"


def demo_dataset() -> Dataset:
    return Dataset.from_dir(DEMO_DATASET)


def live_settings(fake: FakeEutils, out: Path, **overrides: Any) -> Settings:
    """Settings pointed at the fake; a fast limiter unless a test asks for NCBI's rate."""
    env = {"NCBI_EUTILS_URL": fake.base_url, "NCBI_EMAIL": TEST_EMAIL}
    env.update(overrides.pop("env", {}))
    values: dict[str, Any] = {"out_dir": out, "rate_limit": 200.0, "timeout": 5.0}
    values.update(overrides)
    return load_settings(env=env, overrides=values)


def options(out: Path, *refs: str, **kw: Any) -> BuildOptions:
    concepts: tuple[ConceptRef, ...] = tuple(parse_concept_ref(r) for r in refs)
    return BuildOptions(concepts=concepts, raw_dir=kw.pop("raw_dir", out / "raw"), **kw)


def build_live(fake: FakeEutils, out: Path, *refs: str, **kw: Any) -> BuildResult:
    settings = live_settings(fake, out, **kw.pop("settings", {}))
    return build(settings, options(out, *refs, **kw))


def request_key(utility: str, params: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return utility, tuple(sorted((k, v) for k, v in params.items() if k not in ("email", "tool")))


def held_requests(out: Path) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """The requests whose answers the interrupted run had stored (its token in the sidecar)."""
    [marker] = (out / "raw" / "runs").glob("*.json")
    token = json.loads(marker.read_text())["token"]
    metas = [json.loads(m.read_text()) for m in (out / "raw").glob("*/*.json")]
    return {request_key(m["utility"], m["params"]) for m in metas if m.get("run") == token}


def flip_a_data_page_byte(path: Path, column: int = 0) -> None:
    """Change one bit in the payload of a column's last data page (the chunk's last byte)."""
    chunk = pq.ParquetFile(path).metadata.row_group(0).column(column)
    start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    data = bytearray(path.read_bytes())
    data[start + chunk.total_compressed_size - 1] ^= 0x01
    path.write_bytes(bytes(data))


def made_under_umask(umask: int, make: Callable[[], Path]) -> Path:
    """``make()`` run under ``umask``; asserts every path it made has the modes it allows."""
    old = os.umask(umask)
    try:
        made = make()
    finally:
        os.umask(old)
    for path in [made, *made.rglob("*")]:
        want = (0o777 if path.is_dir() else 0o666) & ~umask
        assert path.stat().st_mode & 0o777 == want, path
    return made
