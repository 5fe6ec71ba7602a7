"""The seam into Bio.Entrez: base URL rewritten, our transport used, globals restored."""

import time
from typing import Any

import pytest
from Bio import Entrez

from pipeline.errors import HttpStatusError, NcbiError, ResponseFormatError, TransientError
from pipeline.extract.entrez import BIOPYTHON_BASE, EntrezGateway
from pipeline.extract.request import EutilsRequest
from tests.fakes.eutils_server import FakeEutils, Fault
from tests.support import body_limits, demo_dataset


@pytest.fixture
def fake():
    with FakeEutils(demo_dataset()) as server:
        yield server


def gateway(fake, timeout=5.0, api_key=None, limits=None):
    return EntrezGateway(
        base_url=fake.base_url,
        tool="medgen-etl",
        email="t@x.invalid",
        api_key=api_key,
        timeout=timeout,
        limits=limits or body_limits(),
    )


def test_biopython_still_builds_urls_on_the_base_the_seam_rewrites():
    request = Entrez._build_request(BIOPYTHON_BASE + "einfo.fcgi", {"db": "pubmed", "email": "e"})
    assert request.full_url.startswith(BIOPYTHON_BASE)


def test_gateway_sends_through_the_configured_base_with_identity(fake):
    body = gateway(fake, api_key="K").call(EutilsRequest.make("einfo", db="pubmed"))
    assert body.startswith(b"<?xml")
    [seen] = fake.requests
    assert (seen.utility, seen.params["db"], seen.params["tool"]) == (
        "einfo",
        "pubmed",
        "medgen-etl",
    )
    assert (seen.params["email"], seen.params["api_key"]) == ("t@x.invalid", "K")


def test_gateway_restores_biopython_globals(fake):
    entrez: Any = Entrez
    before = (entrez.urlopen, entrez.max_tries)
    gateway(fake).call(EutilsRequest.make("einfo", db="pubmed"))
    assert (entrez.urlopen, entrez.max_tries) == before


def test_gateway_posts_long_id_lists_as_biopython_decides(fake):
    ids = ",".join(str(i) for i in range(1, 251))
    gateway(fake).call(EutilsRequest.make("efetch", db="pubmed", id=ids, retmode="xml"))
    assert fake.requests[-1].method == "POST"
    assert fake.requests[-1].params["id"] == ids


def test_a_silent_server_cannot_hold_a_request_past_its_deadline(fake):
    fake.inject("einfo", Fault.hang(10))
    start = time.monotonic()
    with pytest.raises(TransientError, match="no complete answer within 1s"):
        gateway(fake, timeout=1.0).call(EutilsRequest.make("einfo", db="pubmed"))
    assert time.monotonic() - start < 3


def test_a_trickling_server_cannot_hold_a_request_past_its_deadline(fake):
    fake.inject("efetch", Fault.trickle(interval_ms=50))
    ids = "39121437,39046511"
    start = time.monotonic()
    with pytest.raises(TransientError):
        gateway(fake, timeout=1.0).call(EutilsRequest.make("efetch", db="pubmed", id=ids))
    assert time.monotonic() - start < 3


@pytest.mark.parametrize(
    ("fault", "match"),
    [
        (Fault.truncated(), "truncated body"),
        (Fault.reset(), "connection to 127.0.0.1:[0-9]+ lost"),
        (Fault.http(503), "HTTP 503"),
    ],
)
def test_broken_answers_are_transient_errors(fake, fault, match):
    fake.inject("einfo", fault)
    with pytest.raises(TransientError, match=match):
        gateway(fake).call(EutilsRequest.make("einfo", db="pubmed"))


def test_retry_after_is_read_from_a_429(fake):
    fake.inject("einfo", Fault.http(429, retry_after=7))
    with pytest.raises(TransientError) as info:
        gateway(fake).call(EutilsRequest.make("einfo", db="pubmed"))
    assert info.value.retry_after == 7.0


def test_a_404_is_a_permanent_http_error(fake):
    fake.inject("einfo", Fault.http(404))
    with pytest.raises(HttpStatusError) as info:
        gateway(fake).call(EutilsRequest.make("einfo", db="pubmed"))
    assert info.value.status == 404
    assert not isinstance(info.value, TransientError)


def test_an_unreachable_base_is_a_transient_connection_error():
    gw = EntrezGateway(
        base_url="http://127.0.0.1:9/",
        tool="t",
        email="e",
        api_key=None,
        timeout=2,
        limits=body_limits(),
    )
    with pytest.raises(NcbiError):
        gw.call(EutilsRequest.make("einfo", db="pubmed"))


GIB = 1 << 30
SMALL = body_limits(efetch_bytes=100_000)


def test_a_body_past_its_limit_is_refused_while_it_is_read_not_after(fake):
    fake.inject("efetch", Fault.huge(4 * GIB, declare_length=False))
    start = time.monotonic()
    with pytest.raises(ResponseFormatError) as info:
        gateway(fake, limits=SMALL).call(EutilsRequest.make("efetch", db="pubmed", id="1"))
    assert not isinstance(info.value, TransientError)
    assert "limit of 100,000 bytes (limits.efetch_bytes)" in str(info.value)
    assert "bytes read; the rest was not read" in str(info.value)
    assert time.monotonic() - start < 5
    fake.stop()  # the handler stops writing once its socket is gone
    [sent] = fake.huge_sent
    assert sent < 64 << 20  # the client stopped it: socket buffers, not gigabytes


def test_a_body_declared_past_its_limit_is_refused_before_reading(fake):
    fake.inject("efetch", Fault.huge(GIB))
    with pytest.raises(ResponseFormatError) as info:
        gateway(fake, limits=SMALL).call(EutilsRequest.make("efetch", db="pubmed", id="1"))
    expected = f"declares {GIB:,} bytes, over the limit of 100,000 (limits.efetch_bytes)"
    assert expected in str(info.value)


def test_each_utility_has_its_own_limit(fake):
    tight = gateway(fake, limits=body_limits(einfo_bytes=200))
    assert tight.call(EutilsRequest.make("efetch", db="pubmed", id="1")).startswith(b"<?xml")
    with pytest.raises(ResponseFormatError, match=r"limits\.einfo_bytes"):
        tight.call(EutilsRequest.make("einfo", db="pubmed"))
