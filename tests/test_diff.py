"""medgen-etl diff: two snapshots compared as the changes table is, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from pipeline.cli import main
from pipeline.load.manifest import CHANGES_FILE
from pipeline.runner import BuildResult
from tests.fakes.eutils_server import FakeEutils
from tests.fakes.world import report_world
from tests.load.test_changes import ADDED, MODIFIED, REMOVED, RETRACTED, two_nights
from tests.support import build_live


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult, BuildResult]:
    out = tmp_path_factory.mktemp("diff") / "out"
    return (out, *two_nights(out))


def diff(out: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["diff", "--out", str(out), *args])


def rows(changes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("cui", "category", "pmid", "change", "rank", "previous_rank")
    return [tuple(c[k] for k in keys) for c in changes]


def test_diff_json_of_current_and_its_parent_names_what_the_changes_table_does(nights):
    out, one, two = nights
    result = diff(out, "--json")
    assert result.exit_code == 1, result.output  # something differs, as diff(1) says
    document = json.loads(result.output)
    table = pq.read_table(two.snapshot / CHANGES_FILE).to_pylist()
    assert rows(document["changes"]) == rows(table)
    assert {c["pmid"] for c in document["changes"]} == {ADDED, REMOVED, MODIFIED, RETRACTED}
    assert document["old"]["snapshot_id"] == one.snapshot.name
    assert document["new"]["snapshot_id"] == two.snapshot.name
    assert document["counts"] == two.manifest["changes"]
    assert (document["format"], document["differs"], document["warnings"]) == (1, True, [])
    assert (document["concept"], document["category"]) == (None, None)


def test_diff_of_a_snapshot_with_itself_exits_0_saying_no_differences(nights):
    out, one, _ = nights
    result = diff(out, one.snapshot.name, one.snapshot.name)
    assert result.exit_code == 0, result.output
    assert "no differences" in result.output
    as_json = json.loads(diff(out, one.snapshot.name, one.snapshot.name, "--json").output)
    assert (as_json["changes"], as_json["differs"]) == ([], False)


def test_diff_old_need_not_be_news_parent_and_reversed_swaps_added_and_removed(nights):
    out, one, two = nights
    forward = json.loads(diff(out, one.snapshot.name, two.snapshot.name, "--json").output)
    backward = json.loads(diff(out, two.snapshot.name, one.snapshot.name, "--json").output)
    swap = {"added": "removed", "removed": "added", "modified": "modified"}
    back = {(c["cui"], c["category"], c["pmid"]): c["change"] for c in backward["changes"]}
    for c in forward["changes"]:
        key = (c["cui"], c["category"], c["pmid"])
        if c["change"] == "retracted":  # a retraction withdrawn is a changed record
            assert back[key] == "modified"
        else:
            assert back[key] == swap[c["change"]]
    assert len(back) == len(forward["changes"])


def test_one_snapshot_id_is_compared_with_the_current_one(nights):
    out, one, two = nights
    named = json.loads(diff(out, one.snapshot.name, "--json").output)
    assert named["new"]["snapshot_id"] == two.snapshot.name
    assert named["changes"] == json.loads(diff(out, "--json").output)["changes"]


def test_the_text_names_both_snapshots_and_each_concepts_changes_per_category(nights):
    out, one, two = nights
    result = diff(out)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"--- {one.snapshot.name} (")
    assert lines[1].startswith(f"+++ {two.snapshot.name} (")
    assert "C9100001 Fakeitis" in lines
    assert any(line.startswith("  ") and "added" in line for line in lines)
    assert f"+ added     PMID {ADDED}" in result.output
    assert f"- removed   PMID {REMOVED}" in result.output
    assert f"~ modified  PMID {MODIFIED}" in result.output
    assert f"! retracted PMID {RETRACTED}" in result.output
    assert lines[-1].endswith("retracted")
    assert " changes: " in lines[-1]


def test_concept_by_uid_or_name_and_category_narrow_the_diff(nights):
    out, _, _ = nights
    whole = json.loads(diff(out, "--json").output)["changes"]
    by_uid = json.loads(diff(out, "--concept", "7100003", "--json").output)
    by_name = json.loads(diff(out, "--concept", "stub syndrome", "--json").output)
    assert by_uid == by_name
    assert by_uid["concept"] == "C9100003"
    assert by_uid["changes"] == [c for c in whole if c["cui"] == "C9100003"]
    category = whole[0]["category"]
    narrowed = json.loads(diff(out, "--category", category, "--json").output)["changes"]
    assert narrowed == [c for c in whole if c["category"] == category]


def test_an_unknown_concept_or_category_is_a_usage_error_naming_the_valid_ones(nights):
    out, _, _ = nights
    concept = diff(out, "--concept", "C0000000")
    assert concept.exit_code == 2
    assert "'C0000000'" in concept.output
    assert "C9100001, C9100003" in concept.output
    category = diff(out, "--category", "astrology")
    assert category.exit_code == 2
    assert "'astrology'" in category.output
    assert "therapy" in category.output


def test_current_given_as_out_is_compared_with_its_parent(nights):
    out, one, _ = nights
    document = json.loads(diff(out / "current", "--json").output)
    assert document["old"]["snapshot_id"] == one.snapshot.name


def test_a_snapshot_with_no_parent_is_compared_with_nothing_as_its_changes_table(tmp_path):
    with FakeEutils(report_world()) as fake:
        one = build_live(fake, tmp_path, "C9100001")
    result = diff(tmp_path, "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["old"] is None
    assert {c["change"] for c in document["changes"]} == {"added"}
    table = pq.read_table(one.snapshot / CHANGES_FILE)
    assert len(document["changes"]) == table.num_rows > 0
    assert "no parent: every citation is added" in diff(tmp_path).output


def test_a_snapshot_that_is_not_there_exits_66(nights):
    out, one, _ = nights
    assert diff(out, "20000101T000000Z-000000000000").exit_code == 66
    assert diff(out, one.snapshot.name, "20000101T000000Z-000000000000").exit_code == 66
    assert diff(out.parent / "nowhere").exit_code == 66


def test_a_parent_removed_from_disk_exits_66_naming_it(nights, tmp_path):
    out, one, two = nights
    moved = tmp_path / "moved"
    one.snapshot.rename(moved)
    try:
        result = diff(out)
    finally:
        moved.rename(one.snapshot)
    assert result.exit_code == 66
    assert f"the parent {one.snapshot.name} of snapshot {two.snapshot.name}" in result.output
