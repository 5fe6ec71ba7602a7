from __future__ import annotations

import pickle

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pipeline.bulk.pmidset import PmidSet


@given(st.sets(st.integers(min_value=0, max_value=5000)), st.lists(st.integers(-10, 6000)))
def test_pmidset_answers_as_a_set_of_the_same_pmids(members: set[int], probes: list[int]):
    pmids = PmidSet(members)
    assert len(pmids) == len(members)
    assert [p in pmids for p in probes] == [p in members for p in probes]


def test_pmidset_survives_pickling_and_takes_a_numpy_array():
    pmids = pickle.loads(pickle.dumps(PmidSet(np.array([3, 40_000_001, 3]))))
    assert 40_000_001 in pmids
    assert 3 in pmids
    assert 4 not in pmids
    assert "3" not in pmids
    assert len(pmids) == 2
