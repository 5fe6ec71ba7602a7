"""The CLI turns errors into one-line messages and exit codes; nothing else does."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.load.manifest import content_hash
from pipeline.load.parquet import PARQUET_OPTIONS
from tests.conftest import ROOT
from tests.fakes.eutils_server import FakeEutils
from tests.support import TEST_EMAIL, demo_dataset, flip_a_data_page_byte, made_under_umask

DEMO_RAW = str(ROOT / "pipeline" / "demo" / "raw")


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


def test_build_without_a_concept_is_a_usage_error(tmp_path):
    result = invoke("build", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "at least one --concept" in result.output


@pytest.mark.parametrize("ref", ["../../etc/passwd", "a\x00b", "x" * 300])
def test_build_rejects_hostile_concept_references_before_any_request(tmp_path, ref):
    result = invoke("build", "--concept", ref, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert not (tmp_path / "raw").exists()


def test_live_build_without_ncbi_email_says_how_to_fix_it(tmp_path):
    result = invoke(
        "build", "--concept", "C4725027", "--out", str(tmp_path), env={"NCBI_EMAIL": ""}
    )
    assert result.exit_code == 78
    assert "NCBI_EMAIL" in result.output


def test_offline_build_names_the_request_the_store_lacks(tmp_path):
    result = invoke(
        "build", "--concept", "C0000001", "--offline", "--raw-dir", DEMO_RAW, "--out", str(tmp_path)
    )
    assert result.exit_code == 66
    assert "esearch db=medgen" in result.output
    assert "term=C0000001" in result.output


def test_build_prints_the_snapshot_path_and_show_prints_the_listing(tmp_path):
    built = invoke(
        "build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW, "--out", str(tmp_path)
    )
    assert built.exit_code == 0, built.output
    snapshot = Path(built.output.strip())
    assert snapshot.parent == tmp_path / "snapshots"
    shown = invoke(
        "show", "C4725027", "--out", str(tmp_path), "--category", "therapy", "--limit", "1"
    )
    assert shown.exit_code == 0
    assert "Therapy\n\nIssa GC" in shown.output
    assert "Dai Y" not in shown.output.split("Therapy", 1)[1]


def test_show_unknown_category_lists_the_known_ones(tmp_path):
    invoke(
        "build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW, "--out", str(tmp_path)
    )
    result = invoke("show", "C4725027", "--out", str(tmp_path), "--category", "therapie")
    assert result.exit_code == 2
    assert "therapy" in result.output


def test_show_without_a_snapshot_says_to_build_first(tmp_path):
    result = invoke("show", "C4725027", "--out", str(tmp_path))
    assert result.exit_code == 66
    assert "medgen-etl build" in result.output


def test_verify_of_a_directory_that_is_not_a_snapshot_exits_66(tmp_path):
    result = invoke("verify", str(tmp_path))
    assert result.exit_code == 66
    assert "manifest.json" in result.output


def test_an_unexpected_exception_is_one_line_exit_70_without_the_key(monkeypatch, capsys):
    from pipeline.cli import handled

    monkeypatch.setenv("NCBI_API_KEY", "KEY-XYZ-123")

    @handled
    def broken() -> None:
        raise ValueError("boom near KEY-XYZ-123")

    with pytest.raises(SystemExit) as info:
        broken()
    assert info.value.code == 70
    err = capsys.readouterr().err
    assert err.startswith("medgen-etl: error: internal error")
    assert "KEY-XYZ-123" not in err
    assert "Traceback" not in err


def test_json_logs_are_one_object_per_line_with_request_fields(tmp_path):
    import json

    from tests.fakes.eutils_server import FakeEutils
    from tests.support import demo_dataset

    with FakeEutils(demo_dataset()) as fake:
        env = {
            "NCBI_EUTILS_URL": fake.base_url,
            "NCBI_EMAIL": "t@x.invalid",
            "NCBI_API_KEY": "K-77",
        }
        result = CliRunner().invoke(
            main,
            ["--log-format", "json", "build", "--concept", "C4725027", "--out", str(tmp_path)],
            env=env,
            catch_exceptions=False,
        )
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    requests = [r for r in records if r.get("utility")]
    assert len(requests) == 13
    assert {r["status"] for r in requests} == {"ok"}
    assert all(r["run_id"] and r["attempt"] == 1 and r["elapsed"] >= 0 for r in requests)
    assert "C4725027" in {r["concept"] for r in requests}
    assert "K-77" not in result.stderr


def _demo_build(out: Path) -> Path:
    built = invoke(
        "build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW, "--out", str(out)
    )
    assert built.exit_code == 0, built.output
    return Path(built.output.strip())


@pytest.mark.parametrize("name", ["current", "snapshots", "raw", ".lock"])
def test_build_refuses_a_file_it_did_not_make_before_any_request(tmp_path, name):
    with FakeEutils(demo_dataset()) as fake:
        out = tmp_path / "out"
        out.mkdir()
        (out / name).write_text("the user's own file\n")
        env = {"NCBI_EUTILS_URL": fake.base_url, "NCBI_EMAIL": TEST_EMAIL}
        result = invoke("build", "--concept", "C4725027", "--out", str(out), env=env)
        assert result.exit_code == 74
        assert str(out / name) in result.output
        assert fake.requests == []
    assert (out / name).read_text() == "the user's own file\n"


def test_show_of_a_concept_the_snapshot_lacks_is_a_usage_error(tmp_path):
    _demo_build(tmp_path)
    result = invoke("show", "C0000001", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "C0000001" in result.output


def _rewrite_dai_y_as_kai_y(target: Path) -> None:
    """A well-formed file with its own page checksums: only the manifest can tell."""
    table = pq.read_table(target)
    authors = [a.replace("Dai Y", "Kai Y") for a in table["authors_display"].to_pylist()]
    index = table.schema.get_field_index("authors_display")
    changed = table.set_column(index, "authors_display", pa.array(authors, pa.string()))
    pq.write_table(changed, target, **PARQUET_OPTIONS)


@pytest.mark.parametrize("tamper", [flip_a_data_page_byte, _rewrite_dai_y_as_kai_y])
def test_show_refuses_a_changed_citations_file_naming_it(tmp_path, tamper):
    snapshot = _demo_build(tmp_path)
    tamper(snapshot / "citations" / "category=etiology" / "part-0.parquet")
    result = invoke("show", "C4725027", "--out", str(tmp_path), "--limit", "5")
    assert result.exit_code == 65
    assert "citations/category=etiology/part-0.parquet" in result.output
    assert "Dai Y" not in result.output
    assert "Kai Y" not in result.output


def test_verify_of_a_manifest_whose_files_is_not_an_object_exits_65(tmp_path):
    snapshot = _demo_build(tmp_path)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["files"] = list(manifest["files"])
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    result = invoke("verify", str(snapshot))
    assert result.exit_code == 65
    assert "'files' is not an object" in result.output


def test_verify_opens_no_path_outside_the_snapshot(tmp_path):
    snapshot = _demo_build(tmp_path)
    manifest = json.loads((snapshot / "manifest.json").read_text())
    manifest["files"]["../../../../../../etc/hostname"] = {
        "rows": 0,
        "bytes": 1,
        "sha256": "0" * 64,
    }
    manifest["content_hash"] = content_hash(manifest)
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    result = invoke("verify", str(snapshot))
    assert result.exit_code == 65
    assert "not a normalized path inside the snapshot" in result.output


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_a_built_snapshot_has_the_modes_the_umask_allows(tmp_path, umask):
    made_under_umask(umask, lambda: _demo_build(tmp_path))
