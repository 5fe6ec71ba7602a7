"""An Airflow DAG for medgen-etl's night: an incremental build, then what changed.

Copy this file into the DAGs folder and set the Airflow Variables ``medgen_etl_out`` and
``medgen_etl_concepts`` (optionally ``medgen_etl_config``, a config file), and NCBI_EMAIL
(optionally NCBI_API_KEY) in the workers' environment. The exit codes decide what Airflow does:

- build 0: published; 65: published without some concepts (logged as a warning, the DAG
  goes on); 75: NCBI stayed unavailable or another run holds the output directory, so the
  task fails and Airflow retries it later; any other code fails the task with no retry.
- diff 0: nothing changed, the DAG stops there; 1: something changed, and ``notify`` runs
  with the JSON diff (replace its body with your e-mail, Slack or ticket call).

The commands and the exit-code policy are plain Python above the DAG, so they can be run
(and are tested) without Airflow installed.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

MEDGEN_ETL = "medgen-etl"


def build_command(
    out: str, concepts: str, config: str | None = None, medgen_etl: str = MEDGEN_ETL
) -> list[str]:
    command = [medgen_etl, "--log-format", "json", "build", "--incremental"]
    command += ["--concepts-file", concepts, "--out", out]
    return command + (["--config", config] if config else [])


def diff_command(out: str, medgen_etl: str = MEDGEN_ETL) -> list[str]:
    return [medgen_etl, "diff", "--out", out, "--json"]


class RetryLaterError(Exception):
    """75: worth running again later (Airflow's retries)."""


class NightFailedError(Exception):
    """Any other failure: a person must look (no retry)."""


def build_outcome(code: int) -> str:
    """``published``, ``partial``; raises RetryLaterError or NightFailedError."""
    if code == 0:
        return "published"
    if code == 65:
        return "partial"
    if code == 75:
        raise RetryLaterError("medgen-etl build exited 75: NCBI or the output directory was busy")
    raise NightFailedError(f"medgen-etl build exited {code}: see its log")


def diff_outcome(code: int) -> bool:
    """Whether something changed; raises NightFailedError on an error."""
    if code in (0, 1):
        return code == 1
    raise NightFailedError(f"medgen-etl diff exited {code}: see its log")


def run_build(command: Sequence[str]) -> str:
    outcome = build_outcome(subprocess.run(command, check=False).returncode)
    if outcome == "partial":
        log.warning("published without some concepts: their reasons are in the manifest")
    return outcome


def run_diff(command: Sequence[str]) -> dict[str, Any] | None:
    """The diff as JSON when something changed, else None."""
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    return json.loads(done.stdout) if diff_outcome(done.returncode) else None


try:  # the DAG itself, where Airflow is installed
    from airflow import DAG
    from airflow.exceptions import AirflowException, AirflowFailException
    from airflow.models import Variable
    from airflow.operators.python import PythonOperator, ShortCircuitOperator
except ImportError:  # pragma: no cover - importable without Airflow
    DAG = None

if DAG is not None:

    def _build() -> str:
        command = build_command(
            Variable.get("medgen_etl_out"),
            Variable.get("medgen_etl_concepts"),
            Variable.get("medgen_etl_config", default_var=None),
        )
        try:
            return run_build(command)
        except RetryLaterError as exc:
            raise AirflowException(str(exc)) from exc
        except NightFailedError as exc:
            raise AirflowFailException(str(exc)) from exc

    def _changed(**context: Any) -> bool:
        try:
            changes = run_diff(diff_command(Variable.get("medgen_etl_out")))
        except NightFailedError as exc:
            raise AirflowFailException(str(exc)) from exc
        context["ti"].xcom_push(key="changes", value=changes)
        return changes is not None

    def _notify(**context: Any) -> None:
        changes = context["ti"].xcom_pull(task_ids="diff", key="changes")
        log.info("medgen-etl: what changed tonight: %s", json.dumps(changes)[:10_000])

    with DAG(
        dag_id="medgen_etl_nightly",
        schedule="30 2 * * *",
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args={"retries": 3, "retry_delay": timedelta(minutes=30)},
    ) as dag:
        build = PythonOperator(task_id="build", python_callable=_build)
        diff = ShortCircuitOperator(task_id="diff", python_callable=_changed, retries=0)
        notify = PythonOperator(task_id="notify", python_callable=_notify, retries=0)
        build >> diff >> notify
