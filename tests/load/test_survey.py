"""What the report reads from a snapshot: counts, newest rows, and the optional tables."""

from __future__ import annotations

import pytest

from pipeline.errors import UsageError
from pipeline.load.survey import survey
from tests.support import thin_demo_snapshot, with_newer_tables


def test_the_demo_survey_counts_every_citation_per_category_and_year(demo_snapshot):
    data = survey(demo_snapshot)
    [concept] = data.concepts
    assert concept.concept["cui"] == "C4725027"
    totals = {c.name: concept.total(c.name) for c in data.categories}
    assert totals == {
        "professional_guidelines": 3,
        "etiology": 5,
        "diagnosis": 5,
        "therapy": 5,
        "prognosis": 5,
        "clinical_prediction_guides": 5,
        "systematic_reviews": 1,
    }
    assert concept.per_year["diagnosis"][2023] == 3
    assert [r["pmid"] for r in concept.newest["professional_guidelines"]] == [
        2323662,
        3655707,
        271045,
    ]
    assert data.per_year == concept.per_year


def test_the_demo_has_no_retractions_no_mesh_headings_and_no_changes_table(demo_snapshot):
    [concept] = survey(demo_snapshot).concepts
    assert concept.retracted == []  # the column is there; the demo records carry no links
    assert concept.mesh == []  # an empty mesh_headings table: the demo XML has no MeshHeadingList
    assert concept.changes is None  # no changes table: the section is left out


def test_a_snapshot_without_mesh_headings_leaves_the_mesh_field_none(tmp_path):
    snapshot = thin_demo_snapshot(tmp_path / "thin")
    [concept] = survey(snapshot).concepts
    assert concept.mesh is None


def test_top_journals_count_distinct_articles_most_first_then_by_name(world_snapshot):
    data = survey(world_snapshot, ["C9100003"])
    [concept] = data.concepts
    assert concept.concept["name"] == "Stub syndrome"
    counts = [n for _, n in concept.journals]
    assert counts == sorted(counts, reverse=True)
    assert sum(counts) == 20  # its 20 linked articles, each counted once
    for category in data.categories:
        ranks = [r["rank"] for r in concept.newest.get(category.name, [])]
        assert ranks == list(range(1, len(ranks) + 1))
        assert len(ranks) <= 5


def test_a_concept_the_snapshot_lacks_is_a_usage_error_naming_it(world_snapshot):
    with pytest.raises(UsageError, match="C0000000"):
        survey(world_snapshot, ["C0000000"])


def test_the_newer_tables_fill_retractions_mesh_and_changes(world_snapshot, tmp_path):
    snapshot = with_newer_tables(world_snapshot, tmp_path / "snap")
    data = survey(snapshot, ["C9100001", "C9100004"])
    fake, unlinked = data.concepts
    [retracted] = fake.retracted or []
    assert retracted["categories"] == ["therapy"]
    therapy = fake.total("therapy")
    assert fake.mesh == [("Neoplasms", therapy), ("Leukemia", 2)]
    assert fake.changes == {"therapy": {"added": 2}, "etiology": {"removed": 1}}
    assert fake.added is not None
    assert [r["category"] for r in fake.added] == ["therapy", "therapy"]
    ranks = [r["rank"] for r in fake.added]
    assert ranks == sorted(ranks)  # newest first
    assert (unlinked.retracted, unlinked.mesh, unlinked.changes, unlinked.added) == ([], [], {}, [])
