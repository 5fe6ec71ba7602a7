"""EutilsClient paging a category search, against a scripted gateway (no HTTP)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pipeline.errors import ResponseFormatError
from pipeline.extract.client import EutilsClient
from pipeline.extract.ratelimit import RateLimiter
from pipeline.extract.rawstore import RawStore
from pipeline.extract.request import EutilsRequest
from pipeline.models import LinkHistory
from tests.fakes.ncbi_xml import SearchPage, esearch_body
from tests.support import retry_policy

LINK = LinkHistory(uid=1, webenv="MCID_SCRIPTED", query_key="1")
IDS = list(range(1001, 1049))  # the search's 48 records, in order


class ScriptedGateway:
    """Answers each esearch with ``answer(call_number, retstart, retmax)``: (Count, ids)."""

    def __init__(self, answer: Callable[[int, int, int], tuple[int, list[int]]]) -> None:
        self.answer = answer
        self.calls: list[dict[str, str]] = []

    def call(self, request: EutilsRequest) -> bytes:
        params = request.param_dict
        self.calls.append(params)
        start, size = int(params["retstart"]), int(params["retmax"])
        count, ids = self.answer(len(self.calls), start, size)
        return esearch_body(SearchPage(count, start, ids, params["term"], 1, "MCID_SCRIPTED"))


def client(gateway: ScriptedGateway, tmp_path) -> EutilsClient:
    policy = retry_policy(max_attempts=2, initial_wait=0.0, max_wait=0.0, jitter=0.0)
    return EutilsClient(
        RawStore(tmp_path), gateway, RateLimiter(1000.0), policy, sleep=lambda _: None
    )


def test_a_count_that_changes_between_pages_is_searched_anew_and_then_the_truth_kept(tmp_path):
    def answer(call: int, start: int, size: int) -> tuple[int, list[int]]:
        if call == 1:  # the first page lies once about the Count (and is self-consistent)
            return 64, IDS[start : start + size]
        return 48, IDS[start : start + size]

    gateway = ScriptedGateway(answer)
    result, _ = client(gateway, tmp_path).search_category(LINK, "f", page_size=10, limit=None)
    assert result.count == 48
    assert list(result.pmids) == IDS
    starts = [int(c["retstart"]) for c in gateway.calls]
    assert starts == [0, 10, 0, 10, 20, 30, 40]  # page 2 disagreed: all of it again


def test_a_count_that_keeps_changing_between_pages_is_refused_naming_the_page(tmp_path):
    def answer(call: int, start: int, size: int) -> tuple[int, list[int]]:
        return (64 if start == 0 else 48), IDS[start : start + size]

    gateway = ScriptedGateway(answer)
    with pytest.raises(ResponseFormatError) as info:
        client(gateway, tmp_path).search_category(LINK, "f", page_size=10, limit=None)
    message = str(info.value)
    assert "Count 48 at retstart 10, but 64 on the search's first page" in message
    assert "again when searched anew; refused" in message
    assert "retstart=10" in message
    assert [int(c["retstart"]) for c in gateway.calls] == [0, 10, 0, 10]


def test_a_page_repeating_ids_of_an_earlier_page_is_asked_again_then_refused(tmp_path):
    def answer(call: int, start: int, size: int) -> tuple[int, list[int]]:
        return 48, IDS[max(0, start - 5) : max(0, start - 5) + size]

    gateway = ScriptedGateway(answer)
    with pytest.raises(ResponseFormatError, match="ids already on an earlier page") as info:
        client(gateway, tmp_path).search_category(LINK, "f", page_size=10, limit=None)
    assert info.value.exit_code == 69
    assert [int(c["retstart"]) for c in gateway.calls] == [0, 10, 10]


def test_a_per_category_limit_pages_only_to_the_limit(tmp_path):
    gateway = ScriptedGateway(lambda call, start, size: (48, IDS[start : start + size]))
    result, _ = client(gateway, tmp_path).search_category(LINK, "f", page_size=10, limit=25)
    assert list(result.pmids) == IDS[:25]
    assert [(c["retstart"], c["retmax"]) for c in gateway.calls] == [
        ("0", "10"),
        ("10", "10"),
        ("20", "5"),
    ]
