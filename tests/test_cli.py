"""The CLI turns errors into one-line messages and exit codes; nothing else does."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from tests.conftest import ROOT

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
    assert result.exit_code == 74
    assert "medgen-etl build" in result.output


def test_verify_of_a_directory_that_is_not_a_snapshot_fails(tmp_path):
    result = invoke("verify", str(tmp_path))
    assert result.exit_code == 65
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


def test_build_with_the_thin_table_set_writes_only_those_tables_and_show_is_unchanged(tmp_path):
    thin = "articles,authors,journals,citations"
    built = invoke(
        "build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW,
        "--out", str(tmp_path), "--tables", thin,
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    snapshot = Path(built.output.strip())
    written = {p.name for p in snapshot.iterdir() if p.is_dir()}
    assert written == {"articles", "authors", "journals", "citations", "concepts", "rejects"}
    full = tmp_path / "full"
    assert (
        invoke(
            "build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW, "--out", str(full)
        ).exit_code
        == 0
    )
    assert {"mesh_headings", "article_references", "history"} <= {
        p.name for p in (full / "current").iterdir()
    }
    shown = invoke("show", "C4725027", "--out", str(tmp_path), "--limit", "5")
    assert shown.output == invoke("show", "C4725027", "--out", str(full), "--limit", "5").output
    annotated = invoke("show", "C4725027", "--out", str(full), "--limit", "5", "--annotate")
    assert annotated.exit_code == 0
    assert annotated.output == shown.output  # the demo records carry no corrections


@pytest.mark.parametrize("command", ["build", "bulk"])
def test_an_unknown_table_in_tables_is_a_usage_error_naming_it(tmp_path, command):
    args = ["--concept", "C4725027", "--tables", "articles,references,mesh"]
    if command == "bulk":
        links = str(ROOT / "tests" / "data" / "bulk" / "medgen_pubmed_lnk.txt.gz")
        args += ["--links", links, "--pubmed", DEMO_RAW]
    result = invoke(command, *args, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "'references', 'mesh'" in result.output
    assert "article_references" in result.output  # what it may have meant
