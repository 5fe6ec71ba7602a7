"""Big categories and the request plan, against the loopback fake."""

from __future__ import annotations

import pytest

from pipeline.config import load_settings
from pipeline.extract.client import EutilsClient
from pipeline.extract.entrez import EntrezGateway
from pipeline.extract.ratelimit import RateLimiter
from pipeline.extract.rawstore import RawStore
from pipeline.plan import plan
from tests.fakes.dataset import Dataset, FakeConcept, pubmed_article
from tests.fakes.eutils_server import FakeEutils
from tests.support import (
    TEST_EMAIL,
    body_limits,
    build_live,
    demo_dataset,
    live_settings,
    options,
    retry_policy,
)

BIG = "Therapy/Broad[filter]"
N = 25_000


@pytest.fixture(scope="module")
def big_dataset() -> Dataset:
    pmids = range(1, N + 1)
    # Dates repeat (30 years x 12 months x 28 days), so some days hold several records.
    articles = [
        pubmed_article(p, year=1990 + p % 30, month=1 + p % 12, day=1 + p % 28) for p in pmids
    ]
    filters: dict[str, list[int]] = {c.term: [] for c in load_settings(env={}).categories}
    filters[BIG] = list(pmids)
    return Dataset(
        [FakeConcept(uid=1, concept_id="C0000001", title="Big")], articles, {1: pmids}, filters
    )


def client_for(fake: FakeEutils, tmp_path) -> EutilsClient:
    gateway = EntrezGateway(
        base_url=fake.base_url,
        tool="t",
        email=TEST_EMAIL,
        api_key=None,
        timeout=10,
        limits=body_limits(),
    )
    return EutilsClient(RawStore(tmp_path), gateway, RateLimiter(500.0), retry_policy())


def test_a_category_of_25000_results_comes_back_whole_and_in_date_order(big_dataset, tmp_path):
    with FakeEutils(big_dataset) as fake:
        client = client_for(fake, tmp_path)
        link = client.link_pubmed(1)
        result, _ = client.search_category(link, BIG, page_size=9999, limit=None)
    assert result.count == N
    assert len(result.pmids) == N
    assert set(result.pmids) == set(range(1, N + 1))
    assert result.slices > 2
    dates = [big_dataset.articles[p].pub_date for p in result.pmids]
    assert dates == sorted(dates, reverse=True)


def test_a_per_category_limit_under_the_ceiling_needs_no_slicing(big_dataset, tmp_path):
    with FakeEutils(big_dataset) as fake:
        client = client_for(fake, tmp_path)
        result, _ = client.search_category(client.link_pubmed(1), BIG, page_size=9999, limit=50)
        assert len(fake.requests_for("esearch")) == 1
    assert result.slices == 1
    assert len(result.pmids) == 50


def test_the_plan_predicts_the_searches_of_a_sliced_category(big_dataset, tmp_path):
    with FakeEutils(big_dataset) as fake:
        client = client_for(fake, tmp_path)
        link = client.link_pubmed(1)
        count, planned = client.plan_category(link, BIG, page_size=9999, limit=None)
        before = len(fake.requests)
        client.search_category(link, BIG, page_size=9999, limit=None)
        sent = len(fake.requests) - before
    assert count == N
    assert sent == planned


def test_dry_run_writes_nothing_and_the_build_stays_within_its_plan(tmp_path):
    with FakeEutils(demo_dataset()) as fake:
        settings = live_settings(fake, tmp_path / "out")
        the_plan = plan(settings, options(tmp_path / "out", "C4725027", "1662593"))
        assert not (tmp_path / "out").exists()
        before = len(fake.requests)
        build_live(fake, tmp_path / "out", "C4725027", "1662593")
        sent = len(fake.requests) - before
    assert the_plan.concepts[0].counts["therapy"] == 5
    assert sent <= the_plan.requests
    assert the_plan.seconds > 0


def test_a_single_day_over_the_ceiling_is_split_by_pmid_range(tmp_path):
    pmids = range(1, 10_501)
    articles = [pubmed_article(p, year=2021, month=3, day=4) for p in pmids]
    dataset = Dataset(
        [FakeConcept(uid=1, concept_id="C1", title="Busy day")], articles, {1: pmids}, {BIG: pmids}
    )
    with FakeEutils(dataset) as fake:
        client = client_for(fake, tmp_path)
        result, _ = client.search_category(client.link_pubmed(1), BIG, page_size=9999, limit=None)
        terms = [r.params["term"] for r in fake.requests_for("esearch")]
    assert sorted(result.pmids) == list(pmids)
    assert any("[uid]" in t for t in terms)
