"""The snapshot commands: snapshots, and --snapshot / a snapshot directory as --out."""

import json
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import main
from tests.conftest import ROOT

DEMO_RAW = str(ROOT / "pipeline" / "demo" / "raw")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), env={}, catch_exceptions=False)


def _demo_build(out: Path) -> Path:
    built = invoke(
        "build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW, "--out", str(out)
    )
    assert built.exit_code == 0, built.output
    return Path(built.output.strip())


def test_snapshots_json_lists_each_published_snapshot_oldest_first(tmp_path):
    first, second = _demo_build(tmp_path), _demo_build(tmp_path)
    result = invoke("snapshots", "--out", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [s["id"] for s in listed] == [first.name, second.name]
    assert [s["current"] for s in listed] == [False, True]
    manifest = json.loads((second / "manifest.json").read_text())
    assert listed[1] == {
        "id": second.name,
        "created": manifest["created_at"],
        "source": "demo",
        "kind": "full",
        "parent": manifest.get("parent"),
        "concepts": 1,
        "rows": sum(f["rows"] for f in manifest["files"].values()),
        "bytes": sum(f["bytes"] for f in manifest["files"].values()),
        "current": True,
    }


def test_snapshots_marks_the_current_one_in_its_table(tmp_path):
    snapshot = _demo_build(tmp_path)
    result = invoke("snapshots", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.output.splitlines() if snapshot.name in line]
    assert row.startswith("* ")
    assert " demo    full " in row


def test_snapshots_of_an_empty_output_directory_exits_66(tmp_path):
    result = invoke("snapshots", "--out", str(tmp_path))
    assert result.exit_code == 66
    assert "no published snapshot" in result.output
    assert json.loads(invoke("snapshots", "--out", str(tmp_path), "--json").output) == []


def test_show_reads_the_snapshot_named_by_snapshot(tmp_path):
    first = _demo_build(tmp_path)
    _demo_build(tmp_path)
    current = invoke("show", "C4725027", "--out", str(tmp_path), "--limit", "5")
    older = invoke(
        "show", "C4725027", "--out", str(tmp_path), "--snapshot", first.name, "--limit", "5"
    )
    assert older.exit_code == 0, older.output
    assert older.output == current.output


def test_show_and_verify_take_output_current_as_the_snapshot_it_names(tmp_path):
    snapshot = _demo_build(tmp_path)
    reference = invoke("show", "C4725027", "--out", str(tmp_path), "--limit", "5")
    for given in (tmp_path / "current", snapshot):
        shown = invoke("show", "C4725027", "--out", str(given), "--limit", "5")
        assert shown.exit_code == 0, shown.output
        assert shown.output == reference.output
        verified = invoke("verify", "--out", str(given))
        assert verified.exit_code == 0, verified.output
        assert snapshot.name in verified.output


def test_a_snapshot_directory_as_out_with_snapshot_says_what_to_pass_instead(tmp_path):
    _demo_build(tmp_path)
    result = invoke("show", "C4725027", "--out", str(tmp_path / "current"), "--snapshot", "x")
    assert result.exit_code == 2
    assert f"pass --out {tmp_path} --snapshot x" in result.output


def test_verify_checks_the_snapshot_named_by_snapshot(tmp_path):
    first = _demo_build(tmp_path)
    _demo_build(tmp_path)
    result = invoke("verify", "--out", str(tmp_path), "--snapshot", first.name)
    assert result.exit_code == 0, result.output
    assert first.name in result.output
    missing = invoke(
        "verify", "--out", str(tmp_path), "--snapshot", "20200101T000000Z-000000000000"
    )
    assert missing.exit_code == 66
    assert "medgen-etl snapshots" in missing.output


def test_rebuild_prints_the_path_of_a_snapshot_published_in_its_own_directory(tmp_path):
    snapshot = _demo_build(tmp_path / "out")
    into = tmp_path / "again"
    result = invoke(
        "rebuild",
        snapshot.name,
        "--out",
        str(tmp_path / "out"),
        "--raw-dir",
        DEMO_RAW,
        "--into",
        str(into),
    )
    assert result.exit_code == 0, result.output
    rebuilt = Path(result.output.strip())
    assert rebuilt.parent == into / "snapshots"
    assert (into / "current").resolve() == rebuilt
    assert (tmp_path / "out" / "current").resolve() == snapshot
