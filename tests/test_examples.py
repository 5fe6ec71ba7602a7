"""The nightly examples run exactly the commands they show, against the fake E-utilities.

examples/nightly.sh (what cron and the systemd service run) over two nights of a
changing world, its exit codes with a stand-in command, and the Airflow DAG's
commands and exit-code policy (importable without Airflow).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from pipeline.load.manifest import load_manifest
from pipeline.load.snapshot import current_snapshot
from tests.conftest import ROOT, cache_env
from tests.fakes.changing_world import NIGHT_ONE, NIGHT_TWO, night_one, night_two
from tests.fakes.eutils_server import FakeEutils
from tests.support import TEST_EMAIL

EXAMPLES = ROOT / "examples"
NIGHTLY = EXAMPLES / "nightly.sh"
MEDGEN_ETL = str(Path(sys.executable).parent / "medgen-etl")


def _today() -> tuple[int, int, int]:
    now = datetime.now(UTC)
    return now.year, now.month, now.day


def _setting(tmp: Path, fake_url: str, concepts: tuple[str, ...]) -> dict[str, str]:
    (tmp / "concepts.txt").write_text("".join(f"{c}\n" for c in concepts))
    config = tmp / "fast.toml"
    config.write_text("[ncbi]\nrate_limit = 200.0\n")  # the fake is not NCBI: no 3/s
    return {
        "PATH": os.environ["PATH"],
        "NCBI_EUTILS_URL": fake_url,
        "NCBI_EMAIL": TEST_EMAIL,
        "MEDGEN_ETL": MEDGEN_ETL,
        "MEDGEN_ETL_OUT": str(tmp / "output"),
        "MEDGEN_ETL_CONCEPTS": str(tmp / "concepts.txt"),
        "MEDGEN_ETL_CONFIG": str(config),
        **cache_env(),
    }


def _night(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(NIGHTLY)], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_nightly_sh_publishes_each_night_and_exits_1_when_something_changed(tmp_path: Path):
    world = night_one()
    with FakeEutils(world) as fake:
        first = _night(_setting(tmp_path, fake.base_url, NIGHT_ONE))
        changed = night_two(world, modified_on=_today())
        env = _setting(tmp_path, fake.base_url, NIGHT_TWO)
        second = _night(env)
        third = _night(env)
    out = tmp_path / "output"
    assert first.returncode == 1, first.stderr[-2000:]  # a first night: every citation added
    assert "no parent: every citation is added" in first.stdout
    assert second.returncode == 1, second.stderr[-2000:]
    diff = json.loads((out / "last-diff.json").read_text())  # the third night's
    assert diff["differs"] is False
    assert third.returncode == 0, third.stderr[-2000:]
    assert "no differences" in third.stdout
    night_two_id = load_manifest(current_snapshot(out)).parent
    assert night_two_id is not None
    two = load_manifest(out / "snapshots" / night_two_id)
    assert two.run is not None
    assert two.run.mode == "incremental"
    modified = {f"PMID {p}" for p in changed.modified}
    assert all(
        any(p in line and "modified" in line for line in second.stdout.splitlines())
        for p in modified
    )


STAND_IN = """#!/bin/sh
case "$*" in
    *build*) exit {build} ;;
    *diff*) exit {diff} ;;
esac
exit 99
"""


@pytest.mark.parametrize(
    ("build", "diff", "expected"),
    [(0, 0, 0), (0, 1, 1), (65, 0, 65), (65, 1, 65), (75, 0, 75), (74, 0, 74), (0, 66, 66)],
)
def test_nightly_sh_exit_status_tells_the_scheduler_what_to_do(
    tmp_path: Path, build: int, diff: int, expected: int
):
    stand_in = tmp_path / "medgen-etl"
    stand_in.write_text(STAND_IN.format(build=build, diff=diff))
    stand_in.chmod(0o755)
    (tmp_path / "output").mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "NCBI_EMAIL": TEST_EMAIL,
        "MEDGEN_ETL": str(stand_in),
        "MEDGEN_ETL_OUT": str(tmp_path / "output"),
    }
    assert _night(env).returncode == expected


def test_nightly_sh_without_ncbi_email_says_so(tmp_path: Path):
    done = _night({"PATH": os.environ["PATH"], "MEDGEN_ETL_OUT": str(tmp_path)})
    assert done.returncode != 0
    assert "NCBI_EMAIL" in done.stderr


def test_cron_and_systemd_run_nightly_sh_and_agree_on_its_exit_codes():
    cron = (EXAMPLES / "crontab").read_text()
    [line] = [x for x in cron.splitlines() if x and not x.startswith("#") and "nightly.sh" in x]
    assert line.split()[:5] == ["30", "2", "*", "*", "*"]
    service = (EXAMPLES / "systemd" / "medgen-etl-nightly.service").read_text()
    settings = dict(x.split("=", 1) for x in service.splitlines() if "=" in x and x[0] != "#")
    assert settings["ExecStart"].endswith("examples/nightly.sh")
    assert settings["SuccessExitStatus"].split() == ["1", "65"]
    assert settings["RestartForceExitStatus"] == "75"
    timer = (EXAMPLES / "systemd" / "medgen-etl-nightly.timer").read_text()
    assert "OnCalendar=*-*-* 02:30:00" in timer


def _dag() -> ModuleType:
    path = EXAMPLES / "airflow" / "medgen_etl_nightly.py"
    spec = importlib.util.spec_from_file_location("medgen_etl_nightly", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_airflow_dag_commands_run_a_night(tmp_path: Path):
    dag = _dag()
    world = night_one()
    with FakeEutils(world) as fake:
        env = _setting(tmp_path, fake.base_url, NIGHT_ONE)
        out, concepts = env["MEDGEN_ETL_OUT"], env["MEDGEN_ETL_CONCEPTS"]
        build = dag.build_command(out, concepts, env["MEDGEN_ETL_CONFIG"], MEDGEN_ETL)
        assert build[1:] == [
            "--log-format", "json", "build", "--incremental",
            "--concepts-file", concepts, "--out", out, "--config", env["MEDGEN_ETL_CONFIG"],
        ]  # fmt: skip
        built = subprocess.run(build, env=env, capture_output=True, timeout=600, check=False)
        assert dag.build_outcome(built.returncode) == "published", built.stderr[-2000:]
        diff = subprocess.run(
            dag.diff_command(out, MEDGEN_ETL), env=env, capture_output=True, text=True, check=False
        )
    assert dag.diff_outcome(diff.returncode) is True  # a first night: everything added
    assert json.loads(diff.stdout)["counts"]["added"] > 0


def test_the_airflow_dag_exit_code_policy():
    dag = _dag()
    assert dag.build_outcome(0) == "published"
    assert dag.build_outcome(65) == "partial"
    with pytest.raises(dag.RetryLaterError):
        dag.build_outcome(75)
    for code in (2, 66, 69, 74, 78, 130, 143):
        with pytest.raises(dag.NightFailedError):
            dag.build_outcome(code)
    assert dag.diff_outcome(0) is False
    assert dag.diff_outcome(1) is True
    with pytest.raises(dag.NightFailedError):
        dag.diff_outcome(66)
