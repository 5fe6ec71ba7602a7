"""bulk --update from the command line: --all-concepts, what it prints, its exit codes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from pipeline.cli import main
from tests.bulk.test_all_concepts import HEAD, article, write_world
from tests.bulk.test_cli_bulk import bulk_args
from tests.support import content_files, demo_snapshot


def run(folder: Path, out: str, *args: str) -> Result:
    argv = [*bulk_args(folder, folder / out), *args]
    return CliRunner().invoke(main, argv, catch_exceptions=False)


def manifest(folder: Path, out: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((folder / out / "current" / "manifest.json").read_text())
    return found


def write_third_file(folder: Path) -> None:
    """Made here: update 0003 raises 1003 to version 2, deletes 1004 and adds 1002 back."""
    body = article(1003, version=2, title="Version two of 1003.") + article(1002)
    body += '<DeleteCitation><PMID Version="1">1004</PMID></DeleteCitation>'
    xml = f"{HEAD}{body}</PubmedArticleSet>"
    (folder / "pubmed" / "pubmed26n0003.xml.gz").write_bytes(gzip.compress(xml.encode()))


def test_all_concepts_update_publishes_what_a_full_run_does_keeping_its_warnings(tmp_path):
    write_world(tmp_path)
    assert run(tmp_path, "out", "--all-concepts").exit_code == 0
    write_third_file(tmp_path)
    updated = run(tmp_path, "out", "--all-concepts", "--update")
    assert updated.exit_code == 0, updated.output
    assert run(tmp_path, "full", "--all-concepts").exit_code == 0
    got, expected = manifest(tmp_path, "out"), manifest(tmp_path, "full")
    assert content_files(got) == content_files(expected)
    assert got["content_hash"] == expected["content_hash"]
    assert got["run"]["mode"] == "update"
    # The baseline's own warning, from the file the update did not read again.
    assert "pubmed26n0001.xml.gz: PMID 1005 appears again; kept the first" in got["warnings"]
    assert updated.output.strip() == str((tmp_path / "out" / "current").resolve())


def test_an_update_with_no_new_file_exits_0_and_prints_the_current_snapshot(tmp_path):
    write_world(tmp_path)
    assert run(tmp_path, "out", "--all-concepts").exit_code == 0
    current = (tmp_path / "out" / "current").resolve()
    again = run(tmp_path, "out", "--all-concepts", "--update")
    assert again.exit_code == 0
    assert again.stdout.strip() == str(current)
    assert "nothing new, nothing published" in again.stderr
    snapshots = (tmp_path / "out" / "snapshots").iterdir()
    assert [p.name for p in snapshots if not p.name.startswith(".")] == [current.name]


def test_an_update_refuses_changed_medgen_files_with_exit_2_naming_the_file(tmp_path):
    write_world(tmp_path)
    assert run(tmp_path, "out", "--all-concepts").exit_code == 0
    names = "#CUI|name|source|SUPPRESS|\nC4725027|Another name|NCI|N|\n"
    (tmp_path / "NAMES.RRF.gz").write_bytes(gzip.compress(names.encode()))
    write_third_file(tmp_path)
    refused = run(tmp_path, "out", "--all-concepts", "--update")
    assert refused.exit_code == 2
    assert "the MedGen file NAMES.RRF.gz differs" in refused.output
    assert "run a full `medgen-etl bulk` instead" in refused.output


def test_an_update_refuses_named_concepts_over_an_all_concepts_snapshot(tmp_path):
    write_world(tmp_path)
    assert run(tmp_path, "out", "--all-concepts").exit_code == 0
    refused = run(tmp_path, "out", "--concept", "C4725027", "--update")
    assert refused.exit_code == 2
    assert "concepts was [], now ['C4725027']" in refused.output


def test_an_update_refuses_a_snapshot_build_made_and_a_missing_one(tmp_path):
    write_world(tmp_path)
    missing = run(tmp_path, "none", "--all-concepts", "--update")
    assert missing.exit_code == 66
    assert "no current snapshot" in missing.output
    demo_snapshot(tmp_path / "built")
    refused = run(tmp_path, "built", "--all-concepts", "--update")
    assert refused.exit_code == 2
    assert "made by `build`, not by `bulk`" in refused.output
