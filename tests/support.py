"""Helpers for tests that run whole builds against the loopback fake E-utilities."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from lxml import etree

from pipeline.config import BodyLimits, Settings, load_settings
from pipeline.extract.objects import decompress
from pipeline.extract.rawstore import Entry, RawStore
from pipeline.extract.retry import RetryPolicy
from pipeline.load.manifest import (
    CHANGES_FILE,
    EUTILS_MODE,
    Categories,
    Concepts,
    Manifest,
    Pmids,
    content_hash,
)
from pipeline.load.parquet import PARQUET_OPTIONS
from pipeline.load.survey import MESH_FILE
from pipeline.models import Category, ConceptRef
from pipeline.refs import parse_concept_ref
from pipeline.runner import BuildOptions, BuildResult, build
from tests.conftest import DEMO_DATASET, cache_env
from tests.fakes.dataset import Dataset
from tests.fakes.eutils_server import FakeEutils

TEST_EMAIL = "tests@medgen-etl.invalid"


def demo_dataset() -> Dataset:
    return Dataset.from_dir(DEMO_DATASET)


def live_settings(fake: FakeEutils, out: Path, **overrides: Any) -> Settings:
    """Settings pointed at the fake; a fast limiter unless a test asks for NCBI's rate."""
    env = {"NCBI_EUTILS_URL": fake.base_url, "NCBI_EMAIL": TEST_EMAIL, **cache_env()}
    env.update(overrides.pop("env", {}))
    values: dict[str, Any] = {"out_dir": out, "rate_limit": 200.0, "timeout": 5.0}
    values.update(overrides)
    return load_settings(env=env, overrides=values)


def retry_policy(**changes: Any) -> RetryPolicy:
    """The packaged retry policy with ``changes`` (e.g. waits short enough for a test)."""
    return dataclasses.replace(load_settings(env={}).retry, **changes)


def options(out: Path, *refs: str, **kw: Any) -> BuildOptions:
    concepts: tuple[ConceptRef, ...] = tuple(parse_concept_ref(r) for r in refs)
    return BuildOptions(concepts=concepts, raw_dir=kw.pop("raw_dir", out / "raw"), **kw)


def build_live(fake: FakeEutils, out: Path, *refs: str, **kw: Any) -> BuildResult:
    settings = live_settings(fake, out, **kw.pop("settings", {}))
    return build(settings, options(out, *refs, **kw))


def request_key(utility: str, params: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return utility, tuple(sorted((k, v) for k, v in params.items() if k not in ("email", "tool")))


def held_requests(out: Path) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """The requests whose answers the interrupted run had stored (its token in an answer)."""
    [marker] = (out / "raw" / "runs").glob("*.json")
    token = json.loads(marker.read_text())["token"]
    return {
        request_key(e.utility, e.params)
        for e in RawStore(out / "raw").entries()
        if any(a.fetched_by(token) for a in e.answers)
    }


def stored_entries(raw: Path, utility: str) -> list[Entry]:
    return [e for e in RawStore(raw).entries() if e.utility == utility]


def latest_object(raw: Path, entry: Entry) -> Path:
    """The object file of the latest answer to ``entry``."""
    return RawStore(raw).object_path(entry.answers[-1].sha256)


def latest_body(raw: Path, entry: Entry) -> bytes:
    return decompress(latest_object(raw, entry).read_bytes())


def busiest_second(times: list[float]) -> int:
    """The most of ``times`` (sorted) that fall within any one second."""
    busiest, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    return busiest


def demo_snapshot(out: Path) -> Path:
    """An offline build of the shipped demo store, as `make demo` makes it."""
    raw = Path(__file__).resolve().parents[1] / "pipeline" / "demo" / "raw"
    settings = load_settings(env={}, overrides={"out_dir": out})
    return build(settings, options(out, "C4725027", raw_dir=raw, offline=True)).snapshot


# The page headings of the default categories, in page order.
HEADINGS = (
    "Professional guidelines",
    "Etiology",
    "Diagnosis",
    "Therapy",
    "Prognosis",
    "Clinical prediction guides",
    "Recent systematic reviews",
)
THIN_TABLES = ("articles", "authors", "journals", "citations")


def thin_demo_snapshot(out: Path) -> Path:
    """The demo built with the thin table set (no MeSH, references, history ...)."""
    raw = Path(__file__).resolve().parents[1] / "pipeline" / "demo" / "raw"
    settings = load_settings(env={}, overrides={"out_dir": out})
    built = build(settings, options(out, "C4725027", raw_dir=raw, offline=True, tables=THIN_TABLES))
    return built.snapshot


def world_snapshot(out: Path) -> Path:
    """A live build of the fake world's concepts against the loopback fake E-utilities."""
    from tests.fakes.world import WORLD_CUIS, report_world

    with FakeEutils(report_world()) as fake:
        return build_live(fake, out, *WORLD_CUIS).snapshot


def with_newer_tables(snapshot: Path, target: Path) -> Path:
    """A copy of ``snapshot`` with the tables and column that newer formats add, its
    manifest entries and content hash made anew so the checked readers accept it."""
    shutil.copytree(snapshot, target)
    manifest = json.loads((target / "manifest.json").read_text("utf-8"))
    therapy_rel = "citations/category=therapy/part-0.parquet"
    table = pq.read_table(target / therapy_rel)
    first = table["pmid"][0].as_py()
    retracted = pa.array([p == first for p in table["pmid"].to_pylist()])
    rows = table.to_pylist()
    pmids = sorted({r["pmid"] for r in rows if r["cui"] == "C9100001"})
    mesh = pa.table(
        {
            "pmid": pa.array(pmids + pmids[:2], pa.int64()),
            "descriptor_name": ["Neoplasms"] * len(pmids) + ["Leukemia", "Leukemia"],
        }
    )
    changes = pa.table(
        {
            "cui": ["C9100001"] * 3,
            "category": ["therapy", "therapy", "etiology"],
            "pmid": pa.array(pmids[:3], pa.int64()),
            "change": ["added", "added", "removed"],
        }
    )
    written = {
        therapy_rel: _with_column(table, "retracted", retracted),
        MESH_FILE: mesh,
        CHANGES_FILE: changes,
    }
    for rel, new in written.items():
        path = target / rel
        path.parent.mkdir(exist_ok=True)
        pq.write_table(new, path, **PARQUET_OPTIONS)
        data = path.read_bytes()
        manifest["files"][rel] = {
            "rows": new.num_rows,
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    manifest["parent"] = "20261127T120000Z-000000000000"  # changes are told against a parent
    manifest["content_hash"] = content_hash(manifest)
    (target / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return target


def _with_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    if name in table.schema.names:
        return table.set_column(table.schema.get_field_index(name), name, values)
    return table.append_column(name, values)


def page_text(html: str) -> str:
    """The text a reader sees (scripts and styles aside), whitespace collapsed."""
    root = etree.fromstring(html.encode("utf-8"), etree.HTMLParser())
    for element in root.iter("style", "script", "title"):
        element.text = ""
    for element in root.iter(*_BLOCKS):
        # A browser breaks the text between blocks; itertext() would glue them.
        element.text = " " + (element.text or "")
        element.tail = " " + (element.tail or "")
    return " ".join("".join(str(t) for t in root.itertext()).split())


_BLOCKS = ("p", "div", "br", "li", "dt", "dd", "td", "th", "tr", "h1", "h2", "h3", "h4", "summary")


def expected_page_lines(*, free_pmc: bool) -> list[str]:
    """The reference page's citation lines (``... PMID: N``), optionally without the PMC note."""
    text = (DEMO_DATASET / "expected-show-limit5.txt").read_text("utf-8")
    lines = [line for line in text.splitlines() if "PMID: " in line]
    return lines if free_pmc else [line.removesuffix("Free PMC Article") for line in lines]


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


def bare_manifest(categories: Sequence[Category] = (), **changes: Any) -> Manifest:
    """The least a manifest says: nothing requested, nothing loaded (``changes`` aside)."""
    return Manifest(
        source="eutils",
        concepts=Concepts((), (), ()),
        categories=Categories(tuple(categories), EUTILS_MODE, None, {}, {}),
        pmids=Pmids(0, 0, 0, 0, (), (), 0),
        **changes,
    )


WHOLE_RECORDS = Path(__file__).resolve().parent / "transform" / "fixtures" / "whole_records.xml"
WHOLE_CUI = "C9000090"


def whole_snapshot(root: Path) -> Path:
    """A bulk snapshot of the whole-record fixture (a retraction, its notice, MeSH headings,
    errata ...): one made-up concept linking its three records, made from files written here."""
    from click.testing import CliRunner

    from pipeline.cli import main

    pubmed = root / "pubmed"
    pubmed.mkdir(parents=True)
    (pubmed / "pubmed26n0001.xml.gz").write_bytes(
        gzip.compress(WHOLE_RECORDS.read_bytes(), mtime=0)
    )
    links = "#UID|CUI|NAME|PMID|\n" + "".join(
        f"9000090|{WHOLE_CUI}|Whole record syndrome|{p}|\n" for p in (90000201, 90000202, 90000203)
    )
    (root / "links.txt.gz").write_bytes(gzip.compress(links.encode(), mtime=0))
    out = root / "out"
    args = ["bulk", "--concept", WHOLE_CUI, "--links", str(root / "links.txt.gz")]
    args += ["--pubmed", str(pubmed), "--executor", "serial", "--out", str(out)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out / "current"


def content_files(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A manifest's files but the changes table, which is told against each snapshot's
    own parent (an update's is the snapshot before; a full run's elsewhere has none)."""
    return {rel: f for rel, f in manifest["files"].items() if rel != CHANGES_FILE}


def body_limits(**caps: int) -> BodyLimits:
    """The configured default caps on answer sizes (pipeline.toml), with ``caps`` changed."""
    return dataclasses.replace(load_settings(env={}).limits, **caps)
