"""Concept references resolved in batches, with a single lookup's answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ConceptError
from pipeline.models import Concept
from pipeline.refs import parse_concept_ref
from pipeline.resolve import BATCH, resolve_concept, resolve_concepts
from tests.fakes.dataset import Dataset, FakeConcept
from tests.fakes.eutils_server import FakeEutils
from tests.test_scale import client_for

COUNT = 250


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    concepts = [
        FakeConcept(uid=7000 + i, concept_id=f"C8{i:06d}", title=f"Thing {i}") for i in range(COUNT)
    ]
    # Two concepts sharing one CUI: a lookup of it is ambiguous.
    concepts.append(FakeConcept(uid=9001, concept_id="C7000000", title="Twin one"))
    concepts.append(FakeConcept(uid=9002, concept_id="C7000000", title="Twin two"))
    return Dataset(concepts)


def utilities(fake: FakeEutils, since: int) -> list[str]:
    return [r.utility for r in fake.requests[since:]]


def test_many_cuis_cost_one_search_and_one_summary_per_batch(dataset, tmp_path: Path):
    refs = [parse_concept_ref(f"C8{i:06d}") for i in range(COUNT)]
    with FakeEutils(dataset) as fake:
        resolved = resolve_concepts(client_for(fake, tmp_path), refs)
        sent = utilities(fake, 0)
    batches = -(-COUNT // BATCH)
    assert sent.count("esearch") == batches
    assert sent.count("esummary") == batches
    assert [resolved[r].uid for r in refs] == [7000 + i for i in range(COUNT)]  # type: ignore[union-attr]


def test_a_single_cui_is_searched_exactly_as_a_lone_lookup(dataset, tmp_path: Path):
    ref = parse_concept_ref("C8000003")
    with FakeEutils(dataset) as fake:
        resolved = resolve_concepts(client_for(fake, tmp_path), [ref])
        search = fake.requests[0]
    assert search.params["term"] == "C8000003"
    assert search.params["retmax"] == "20"
    assert isinstance(resolved[ref], Concept)


def test_unknown_and_ambiguous_cuis_fail_with_a_lone_lookups_message(dataset, tmp_path: Path):
    refs = [parse_concept_ref(v) for v in ("C8000001", "C9999999", "C7000000", "C8000002")]
    with FakeEutils(dataset) as fake:
        resolved = resolve_concepts(client_for(fake, tmp_path / "batch"), refs)
        for ref in refs[1:3]:
            with pytest.raises(ConceptError) as alone:
                resolve_concept(client_for(fake, tmp_path / "alone"), ref)
            assert str(resolved[ref]) == str(alone.value)
    assert "no MedGen concept matches cui 'C9999999'" in str(resolved[refs[1]])
    assert "ambiguous" in str(resolved[refs[2]])
    assert isinstance(resolved[refs[0]], Concept)
    assert isinstance(resolved[refs[3]], Concept)


def test_uids_share_the_summary_batches_and_names_are_searched_alone(dataset, tmp_path: Path):
    refs = [parse_concept_ref(v) for v in ("7005", "C8000006", "Thing 7", "123456")]
    with FakeEutils(dataset) as fake:
        resolved = resolve_concepts(client_for(fake, tmp_path), refs)
        sent = fake.requests
    summaries = [r for r in sent if r.utility == "esummary"]
    assert summaries[0].params["id"].split(",") == ["7006", "7005", "123456"]
    assert [r.params["term"] for r in sent if r.utility == "esearch"] == ["C8000006", '"Thing 7"']
    assert resolved[refs[0]].cui == "C8000005"  # type: ignore[union-attr]
    assert resolved[refs[2]].cui == "C8000007"  # type: ignore[union-attr]
    assert "could not summarize uid '123456'" in str(resolved[refs[3]])


def test_a_reference_given_twice_is_resolved_once(dataset, tmp_path: Path):
    ref = parse_concept_ref("C8000009")
    with FakeEutils(dataset) as fake:
        resolved = resolve_concepts(client_for(fake, tmp_path), [ref, ref])
        assert utilities(fake, 0) == ["esearch", "esummary"]
    assert list(resolved) == [ref]
