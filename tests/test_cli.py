"""The CLI turns errors into one-line messages and exit codes; nothing else does."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.load.concept_tables import DETAIL_TABLES
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


CATEGORY = '[[category]]\nname = "{}"\nheading = "Therapy"\nterm = "Therapy/Broad[filter]"\n'


@pytest.mark.parametrize(
    ("flag", "data", "extra", "message"),
    [
        ("--config", b"[ncbi]\nrate_limit = 1e-9\n", (), "ncbi.rate_limit = 1e-09 is out of range"),
        ("--config", b"[retry]\ninitial_wait = -1\n", (), "retry.initial_wait = -1 is out of"),
        ("--config", b"[ncbi]\ntimeout = nan\n", (), "ncbi.timeout = nan is not a finite"),
        ("--config", b"[retry]\nmax_wait = inf\n", (), "retry.max_wait = inf is not a finite"),
        ("--config", b"[ncbi]\nrate_limit = 4.0\n", (), "above NCBI's limit of 3"),
        ("--config", b"[ncbi]\n", ("--timeout", "nan"), "--timeout: ncbi.timeout = nan"),
        ("--config", b"[ncbi]\n", ("--timeout", "inf"), "--timeout: ncbi.timeout = inf"),
        ("--categories", CATEGORY.format("therapy\\n").encode(), (), "must match"),
        ("--categories", CATEGORY.format("th\u00e9rapie").encode("latin-1"), (), "not UTF-8"),
        ("--categories", CATEGORY.format("therapy").encode("utf-16"), (), "not UTF-8"),
    ],
)
def test_hostile_configuration_is_refused_with_78_before_any_request(
    tmp_path, flag, data, extra, message
):
    given = tmp_path / "given.toml"
    given.write_bytes(data)
    out = tmp_path / "out"
    result = invoke(
        "build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW,
        "--out", str(out), flag, str(given), *extra,
    )  # fmt: skip
    assert result.exit_code == 78, result.output
    assert message in result.output
    if flag != "--config" or not extra:
        assert str(given) in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("C4725027\n".encode("utf-16"), ":1: the file is UTF-16"),
        ("C4725027\n1662593\n".encode("utf-16-le"), ":1: NUL bytes (is the file UTF-16?"),
        (b"C4725027\n# Leuk\xe4mie\n", ":2: not UTF-8"),
        (b"C4725027\n\n1662593\n\xc3\x28\n", ":4: not UTF-8"),
        (b'C4725027\nzzz" OR C0023467 OR "zzz\n', ":2: concept name 'zzz\" OR"),
        (b"C4725027\nLeuk*\n", ":2: concept name 'Leuk*' cannot be searched as a name"),
    ],
)
@pytest.mark.parametrize("command", ["build", "bulk"])
def test_a_bad_concepts_file_is_a_usage_error_naming_the_file_and_line(
    tmp_path, command, data, message
):
    concepts = tmp_path / "concepts.txt"
    concepts.write_bytes(data)
    links = tmp_path / "links.txt"
    links.write_text("#UID|CUI|NAME|PMID|\n")
    out = tmp_path / "out"
    args = ["--concepts-file", str(concepts), "--out", str(out)]
    if command == "bulk":
        args += ["--links", str(links), "--pubmed", str(tmp_path)]
    else:
        args += ["--offline", "--raw-dir", DEMO_RAW]
    result = invoke(command, *args)
    assert result.exit_code == 2, result.output
    assert f"{concepts}{message}" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    "name", ['zzz" OR C0023467 OR "zzz', "Refractory*", "Leukemia[mh]", "zzz OR C0023467"]
)
def test_a_concept_name_holding_search_syntax_is_refused_before_any_request(tmp_path, name):
    out = tmp_path / "out"
    result = invoke("build", "--concept", name, "--out", str(out), env={"NCBI_EMAIL": "e@x.org"})
    assert result.exit_code == 2, result.output
    assert f"concept name {name!r} cannot be searched as a name" in result.output
    assert not out.exists()


def test_a_concepts_file_with_a_byte_order_mark_builds(tmp_path):
    concepts = tmp_path / "concepts.txt"
    concepts.write_bytes(b"\xef\xbb\xbfC4725027\r\n")
    result = invoke(
        "build", "--concepts-file", str(concepts), "--offline", "--raw-dir", DEMO_RAW,
        "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_report_writes_the_page_in_the_working_directory_and_prints_its_path(tmp_path, monkeypatch):
    out = tmp_path / "out"
    invoke("build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW, "--out", str(out))
    snapshot_id = (out / "current").resolve().name
    monkeypatch.chdir(tmp_path)
    result = invoke("report", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"report-{snapshot_id}.html"
    assert "hand-written demo" in result.stderr
    page = (tmp_path / f"report-{snapshot_id}.html").read_text("utf-8")
    assert "Refractory Acute Leukemia" in page


def test_report_takes_a_snapshot_id_a_concept_and_a_file_name(tmp_path):
    out = tmp_path / "out"
    invoke("build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW, "--out", str(out))
    snapshot_id = (out / "current").resolve().name
    target = tmp_path / "page.html"
    result = invoke(
        "report",
        "--out",
        str(out),
        "--snapshot",
        snapshot_id,
        "--concept",
        "1662593",
        "--html",
        str(target),
    )
    assert result.exit_code == 0, result.output
    assert target.read_text("utf-8").count('<section class="concept"') == 1


def test_report_max_concepts_0_shows_all_and_a_negative_one_is_refused(tmp_path):
    out = tmp_path / "out"
    invoke("build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW, "--out", str(out))
    target = tmp_path / "page.html"
    every = invoke("report", "--out", str(out), "--max-concepts", "0", "--html", str(target))
    assert every.exit_code == 0, every.output
    assert target.read_text("utf-8").count('<section class="concept"') == 1
    bad = invoke("report", "--out", str(out), "--max-concepts", "-1", "--html", str(target))
    assert bad.exit_code == 2
    assert "--max-concepts" in bad.output


def test_report_of_an_unknown_snapshot_or_concept_says_which(tmp_path):
    out = tmp_path / "out"
    invoke("build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW, "--out", str(out))
    missing = invoke("report", "--out", str(out), "--snapshot", "20000101T000000Z-000000000000")
    assert missing.exit_code == 66
    assert "20000101T000000Z-000000000000" in missing.output
    path = invoke("report", "--out", str(out), "--snapshot", "../etc")
    assert path.exit_code == 2
    unknown = invoke("report", "--out", str(out), "--concept", "C0000001", "--html", "x.html")
    assert unknown.exit_code == 2
    assert "C0000001" in unknown.output


def test_the_demo_notice_is_a_json_object_with_json_logs(tmp_path):
    invoke(
        "build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW, "--out", str(tmp_path)
    )
    shown = invoke("--log-format", "json", "show", "C4725027", "--out", str(tmp_path))
    assert shown.exit_code == 0
    [entry] = [json.loads(line) for line in shown.stderr.splitlines()]
    assert entry["level"] == "warning"
    assert "hand-written demo" in entry["message"]


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


def test_build_with_the_thin_table_set_writes_only_those_tables_and_show_is_unchanged(tmp_path):
    thin = "articles,authors,journals,citations"
    built = invoke(
        "build", "--concept", "C4725027", "--offline", "--raw-dir", DEMO_RAW,
        "--out", str(tmp_path), "--tables", thin,
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    snapshot = Path(built.output.strip())
    written = {p.name for p in snapshot.iterdir() if p.is_dir()}
    # The concept tables are always written: --tables selects among the article tables.
    always = {"concepts", "rejects", "changes", *DETAIL_TABLES}
    assert written == {"articles", "authors", "journals", "citations", *always}
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
