"""make demo's path: an offline build from the shipped raw store, then show, as a user runs them."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import DEMO_DATASET, REFERENCE_PAGE, ROOT

EXPECTED = DEMO_DATASET / "expected-show-limit5.txt"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        check=False,
    )


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("demo")
    raw = work / "raw"
    shutil.copytree(ROOT / "pipeline" / "demo" / "raw", raw)
    built = run_cli(
        "build",
        "--concept",
        "C4725027",
        "--offline",
        "--raw-dir",
        str(raw),
        "--out",
        str(work / "output"),
        cwd=work,
    )
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip().startswith(str(work / "output" / "snapshots"))
    shutil.rmtree(raw)  # show must need nothing but the published Parquet
    out: Path = work / "output"
    return out


def test_show_limit_5_reproduces_the_reference_page_listing(demo_out):
    shown = run_cli("show", "C4725027", "--out", str(demo_out), "--limit", "5", cwd=demo_out)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.rstrip("\n") == EXPECTED.read_text("utf-8").rstrip("\n")


def test_the_expected_listing_is_the_reference_page_text():
    if not REFERENCE_PAGE.exists():
        pytest.skip(f"reference page not present at {REFERENCE_PAGE} (outside the repository)")
    page = REFERENCE_PAGE.read_text("utf-8")
    start = page.index("Refractory Acute Leukemia\n\nMedGen UID")
    end = page.index("\n\nSupplemental Content")
    assert EXPECTED.read_text("utf-8").rstrip("\n") == page[start:end]


def test_show_one_category_prints_only_its_heading(demo_out):
    shown = run_cli(
        "show", "1662593", "--out", str(demo_out), "--category", "systematic_reviews", cwd=demo_out
    )
    assert shown.returncode == 0, shown.stderr
    body = shown.stdout.split("[from NCI]\n\n", 1)[1]
    assert body.splitlines()[0] == "Recent systematic reviews"
    assert "Therapy" not in body
    assert "PMID: 35485262" in body


def test_verify_passes_then_fails_after_one_byte_changes(demo_out):
    ok = run_cli("verify", "--out", str(demo_out), cwd=demo_out)
    assert ok.returncode == 0, ok.stderr
    snapshot = (demo_out / "current").resolve()
    target = snapshot / "articles" / "part-0.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    bad = run_cli("verify", str(snapshot), cwd=demo_out)
    assert bad.returncode == 65
    assert "articles/part-0.parquet" in bad.stderr


def test_a_demo_build_says_so_in_its_manifest_and_show_says_so_on_stderr(demo_out):
    manifest = json.loads((demo_out / "current" / "manifest.json").read_text("utf-8"))
    assert manifest["source"] == "demo"
    assert "citations.pmcid" in manifest["placeholder_columns"]
    assert "articles.title" in manifest["placeholder_columns"]
    shown = run_cli("show", "C4725027", "--out", str(demo_out), "--limit", "1", cwd=demo_out)
    assert shown.returncode == 0, shown.stderr
    [notice] = shown.stderr.splitlines()
    assert "hand-written demo, not NCBI's data" in notice
    assert "demo" not in shown.stdout


def test_every_column_of_the_demo_holding_a_placeholder_is_declared(demo_snapshot):
    manifest = json.loads((demo_snapshot / "manifest.json").read_text("utf-8"))
    marked = set()
    for rel in manifest["files"]:
        table = pq.read_table(demo_snapshot / rel)
        for name in table.column_names:
            if "PLACEHOLDER" in str(table[name].to_pylist()):
                marked.add(f"{rel.split('/')[0]}.{name}")
    assert "articles.title" in marked
    assert marked <= set(manifest["placeholder_columns"])
