"""The fake E-utilities server, exercised over real HTTP on 127.0.0.1 with urllib."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import DEMO_DATASET
from tests.fakes import Dataset, FakeConcept, FakeEutils, Fault, pub_date_key, pubmed_article

CUI = "C4725027"
UID = "1684587"
NO_LINKS_UID = "9999"
THERAPY = "Therapy/Broad[filter]"
GUIDELINE = "(guideline[pt] OR practice guideline[pt])"
TIMEOUT = 5.0

# pmid -> (year, month, day); None parts are missing from PubDate.
DATES: dict[int, tuple[int | None, int | None, int | None]] = {
    101: (2021, 5, 3),
    102: (2021, 5, None),  # same month as 101, no day: sorts below it
    103: (2021, None, None),
    104: (2019, 12, 31),
    105: (2021, 5, 3),  # ties with 101: the higher PMID first
    106: (2023, 1, 1),
}
MEDLINE_DATE_PMID = 107  # "2022 Dec-2023 Jan": sorts as 2022, earliest in that year


def _articles() -> list[str]:
    xml = [
        pubmed_article(p, year=y, month=m, day=d, title=f"T{p}") for p, (y, m, d) in DATES.items()
    ]
    xml[0] = pubmed_article(  # the optional parts too, so the DTD check covers them
        101,
        year=2021,
        month=5,
        day=3,
        title="Ampersands & <angles> survive",
        authors=[("Núñez", "José María"), "The Fake Consortium"],
        doi="10.1000/xyz-101",
        abstract="An abstract.",
        publication_types=["Journal Article", "Practice Guideline"],
    )
    xml.append(pubmed_article(MEDLINE_DATE_PMID, medline_date="2022 Dec-2023 Jan"))
    return xml


def make_dataset() -> Dataset:
    concepts = [
        FakeConcept(UID, CUI, "Hereditary testing syndrome", definition="Defined."),
        FakeConcept(NO_LINKS_UID, "C0000001", "Lonely concept"),
    ]
    links = {UID: [*DATES, MEDLINE_DATE_PMID]}
    filters = {THERAPY: [101, 102, 104, 106, 107, 555], GUIDELINE: [103]}
    return Dataset(concepts, _articles(), links, filters)


@pytest.fixture
def fake() -> Iterator[FakeEutils]:
    with FakeEutils(make_dataset()) as server:
        yield server


# ------------------------------------------------------------------------- helpers


def _url(fake: FakeEutils, utility: str, params: dict[str, str]) -> str:
    return f"{fake.base_url}{utility}.fcgi?{urllib.parse.urlencode(params)}"


def fetch(
    fake: FakeEutils, utility: str, params: dict[str, str], *, timeout: float = TIMEOUT
) -> tuple[int, Message[str, str], bytes]:
    try:
        with urllib.request.urlopen(_url(fake, utility, params), timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def get(fake: FakeEutils, utility: str, **params: str) -> tuple[int, Message[str, str], bytes]:
    return fetch(fake, utility, params)


def post(fake: FakeEutils, utility: str, **params: str) -> tuple[int, bytes]:
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(f"{fake.base_url}{utility}.fcgi", data=data, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as resp:
        return resp.status, resp.read()


def xml(body: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(body, parser)


def texts(root: etree._Element, path: str) -> list[str]:
    return [e.text or "" for e in root.iterfind(path)]


def ids(body: bytes) -> list[int]:
    return [int(t) for t in texts(xml(body), "IdList/Id")]


def link_history(fake: FakeEutils, uid: str = UID, **extra: str) -> tuple[str, str]:
    params = {"dbfrom": "medgen", "db": "pubmed", "linkname": "medgen_pubmed"}
    _, _, body = get(fake, "elink", id=uid, cmd="neighbor_history", **params, **extra)
    root = xml(body)
    return root.findtext("LinkSet/WebEnv") or "", root.findtext(
        "LinkSet/LinkSetDbHistory/QueryKey"
    ) or ""


def pubmed_search(fake: FakeEutils, webenv: str, term: str, **extra: str) -> bytes:
    return get(fake, "esearch", db="pubmed", term=term, WebEnv=webenv, **extra)[2]


# ------------------------------------------------------------------------- happy paths


def test_every_response_is_text_xml_with_content_length(fake: FakeEutils) -> None:
    for utility, params in [
        ("einfo", {"db": "pubmed"}),
        ("esearch", {"db": "medgen", "term": CUI}),
        ("esummary", {"db": "medgen", "id": UID}),
        ("nosuch", {}),
    ]:
        _, headers, body = get(fake, utility, **params)
        assert headers["Content-Type"] == "text/xml; charset=UTF-8"
        assert int(headers["Content-Length"]) == len(body)


@pytest.mark.parametrize("term", [CUI, CUI.lower(), f"{CUI}[ConceptId]", f'"{CUI}"[CUI]'])
def test_esearch_medgen_matches_concept_id(fake: FakeEutils, term: str) -> None:
    status, _, body = get(fake, "esearch", db="medgen", term=term)
    assert status == 200
    assert body.startswith(
        b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC'
    )
    assert ids(body) == [int(UID)]
    assert xml(body).findtext("Count") == "1"


def test_esearch_medgen_matches_title_case_insensitively(fake: FakeEutils) -> None:
    assert ids(get(fake, "esearch", db="medgen", term="hereditary TESTING syndrome")[2]) == [
        int(UID)
    ]


def test_esearch_medgen_no_match_reports_phrase_not_found(fake: FakeEutils) -> None:
    body = get(fake, "esearch", db="medgen", term="C9999999[ConceptId]")[2]
    root = xml(body)
    assert [root.findtext(t) for t in ("Count", "RetMax", "RetStart")] == ["0", "0", "0"]
    assert texts(root, "IdList/Id") == []
    assert b"<IdList/>" in body
    assert root.findtext("ErrorList/PhraseNotFound") == "C9999999"
    assert root.findtext("WarningList/OutputMessage") == "No items found."


def test_esummary_keeps_id_order_and_marks_unknown_uids(fake: FakeEutils) -> None:
    status, _, body = get(fake, "esummary", db="medgen", id=f"424242,{UID}", version="2.0")
    root = xml(body)
    assert status == 200
    assert root.findtext("DocumentSummarySet/DbBuild")
    docs = root.findall("DocumentSummarySet/DocumentSummary")
    assert [d.get("uid") for d in docs] == ["424242", UID]
    assert docs[0].findtext("error") == "cannot get document summary"
    assert docs[1].findtext("ConceptId") == CUI
    assert b'<DocumentSummary uid="424242">\n\t<error>cannot get document summary</error>\n' in body


def test_esummary_without_version_serves_the_same_format(fake: FakeEutils) -> None:
    with_version = get(fake, "esummary", db="medgen", id=UID, version="2.0")[2]
    assert get(fake, "esummary", db="medgen", id=UID)[2] == with_version


def test_elink_neighbor_history_body_matches_ncbi_layout(fake: FakeEutils) -> None:
    params = {"dbfrom": "medgen", "db": "pubmed", "linkname": "medgen_pubmed"}
    body = get(fake, "elink", id=UID, cmd="neighbor_history", **params)[2]
    assert body.decode() == (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        '<!DOCTYPE eLinkResult PUBLIC "-//NLM//DTD elink 20101123//EN" '
        '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20101123/elink.dtd">\n'
        "<eLinkResult>\n\n  <LinkSet>\n    <DbFrom>medgen</DbFrom>\n"
        f"    <IdList>\n      <Id>{UID}</Id>\n    </IdList>\n"
        "    <LinkSetDbHistory>\n      <DbTo>pubmed</DbTo>\n"
        "      <LinkName>medgen_pubmed</LinkName>\n      <QueryKey>1</QueryKey>\n"
        "    </LinkSetDbHistory>\n"
        "    <WebEnv>MCID_FAKE_00000001</WebEnv>\n  </LinkSet>\n</eLinkResult>\n"
    )


def test_elink_appends_to_a_given_webenv(fake: FakeEutils) -> None:
    webenv, key = link_history(fake)
    assert (webenv, key) == ("MCID_FAKE_00000001", "1")
    assert link_history(fake, WebEnv=webenv) == (webenv, "2")
    assert link_history(fake)[0] == "MCID_FAKE_00000002"


def test_elink_without_links_has_webenv_but_no_history_entry(fake: FakeEutils) -> None:
    body = get(
        fake, "elink", dbfrom="medgen", db="pubmed", id=NO_LINKS_UID, cmd="neighbor_history"
    )[2]
    root = xml(body)
    assert root.findtext("LinkSet/WebEnv") == "MCID_FAKE_00000001"
    assert root.find("LinkSet/LinkSetDbHistory") is None


def test_elink_without_links_info_style() -> None:
    with FakeEutils(make_dataset(), empty_link_style="info") as fake:
        params = {"dbfrom": "medgen", "db": "pubmed", "cmd": "neighbor_history"}
        body = get(fake, "elink", id=NO_LINKS_UID, **params)[2]
    assert (
        b"    <LinkSetDbHistory>\n      <DbTo>pubmed</DbTo>\n"
        b"      <LinkName>medgen_pubmed</LinkName>\n      <QueryKey>1</QueryKey>\n"
        b"      <Info>Empty result</Info>\n    </LinkSetDbHistory>\n"
    ) in body


def test_elink_plain_neighbor_lists_links(fake: FakeEutils) -> None:
    root = xml(get(fake, "elink", dbfrom="medgen", db="pubmed", id=UID, cmd="neighbor")[2])
    assert root.findtext("LinkSet/LinkSetDb/LinkName") == "medgen_pubmed"
    assert [int(i) for i in texts(root, "LinkSet/LinkSetDb/Link/Id")] == [*DATES, 107]
    lonely = xml(get(fake, "elink", dbfrom="medgen", db="pubmed", id=NO_LINKS_UID)[2])
    assert lonely.find("LinkSet/LinkSetDb") is None


# ------------------------------------------------------------------------- history searches

ALL_BY_DATE = [106, 107, 105, 101, 102, 103, 104]


def test_history_search_sorts_by_pub_date_descending(fake: FakeEutils) -> None:
    webenv, key = link_history(fake)
    assert ids(pubmed_search(fake, webenv, f"#{key}", sort="pub_date")) == ALL_BY_DATE
    therapy = pubmed_search(fake, webenv, f"#{key} AND {THERAPY}", sort="pub_date")
    assert ids(therapy) == [106, 107, 101, 102, 104]  # 555 is linked nowhere
    assert xml(therapy).findtext("Count") == "5"


def test_history_search_pages_with_retstart_and_retmax(fake: FakeEutils) -> None:
    webenv, key = link_history(fake)
    page = xml(pubmed_search(fake, webenv, f"#{key}", sort="pub_date", retstart="2", retmax="3"))
    assert [page.findtext(t) for t in ("Count", "RetMax", "RetStart")] == ["7", "3", "2"]
    assert [int(i) for i in texts(page, "IdList/Id")] == ALL_BY_DATE[2:5]
    beyond = xml(pubmed_search(fake, webenv, f"#{key}", retstart="50"))
    assert beyond.findtext("Count") == "7"
    assert beyond.findtext("RetMax") == "0"


def test_parenthesised_filter_is_matched(fake: FakeEutils) -> None:
    webenv, key = link_history(fake)
    assert ids(pubmed_search(fake, webenv, f"#{key} AND {GUIDELINE}")) == [103]


def test_unknown_filter_answers_unfiltered_with_phrase_not_found(fake: FakeEutils) -> None:
    webenv, key = link_history(fake)
    root = xml(pubmed_search(fake, webenv, f"#{key} AND nosuch[sb]", sort="pub_date"))
    assert [int(i) for i in texts(root, "IdList/Id")] == ALL_BY_DATE
    assert root.findtext("ErrorList/PhraseNotFound") == "nosuch[sb]"
    assert root.find("ERROR") is None


def test_plain_filter_term_without_history(fake: FakeEutils) -> None:
    assert ids(get(fake, "esearch", db="pubmed", term=GUIDELINE)[2]) == [103]


def test_pubmed_search_serves_only_the_first_9999_records() -> None:
    dataset = Dataset(filters={"big[filter]": range(1, 10_051)})
    with FakeEutils(dataset) as fake:
        root = xml(get(fake, "esearch", db="pubmed", term="big[filter]", retmax="20000")[2])
        beyond = xml(get(fake, "esearch", db="pubmed", term="big[filter]", retstart="9999")[2])
    assert root.findtext("Count") == "10050"
    assert root.findtext("RetMax") == "9999"
    assert "cannot be larger than 9998" in (beyond.findtext("ERROR") or "")


def test_date_windows_and_uid_ranges_narrow_a_history_search() -> None:
    with FakeEutils(Dataset.from_dir(DEMO_DATASET)) as demo:
        webenv, _ = link_history(demo, "1662593")
        params = {"db": "pubmed", "WebEnv": webenv, "retmax": "100", "datetype": "pdat"}
        december = {"mindate": "2023/12/01", "maxdate": "2023/12/31"}
        window = xml(get(demo, "esearch", term="#1", **december, **params)[2])
        ranged = xml(get(demo, "esearch", term="#1 AND 37000000:37700000[uid]", **params)[2])
    assert sorted(int(i.text or 0) for i in window.iter("Id")) == [37199372, 37688521, 37891368]
    assert sorted(int(i.text or 0) for i in ranged.iter("Id")) == [37199372, 37688521]


def test_unknown_webenv_or_query_key_is_an_error_body(fake: FakeEutils) -> None:
    webenv, _ = link_history(fake)
    expected = b"<eSearchResult>\n\t<ERROR>Unable to obtain query #7</ERROR>\n</eSearchResult>\n"
    assert pubmed_search(fake, webenv, "#7").endswith(expected)
    assert xml(pubmed_search(fake, "MCID_NOPE", f"#1 AND {THERAPY}")).findtext("ERROR") == (
        "Unable to obtain query #1"
    )


def test_stale_webenv_in_efetch_and_elink_is_an_error_body(fake: FakeEutils) -> None:
    params = {"db": "pubmed", "WebEnv": "MCID_NOPE", "query_key": "1"}
    root = xml(get(fake, "efetch", **params)[2])
    assert root.tag == "eFetchResult"
    assert (root.findtext("ERROR") or "").startswith("Cannot retrieve history data.")
    elink = {"dbfrom": "medgen", "db": "pubmed", "cmd": "neighbor_history", "WebEnv": "MCID_NOPE"}
    assert xml(get(fake, "elink", id=UID, **elink)[2]).find("ERROR") is not None


def test_forget_sessions_expires_every_webenv(fake: FakeEutils) -> None:
    webenv, key = link_history(fake)
    fake.forget_sessions()
    assert (
        xml(pubmed_search(fake, webenv, f"#{key}")).findtext("ERROR") == "Unable to obtain query #1"
    )
    assert link_history(fake)[0] == "MCID_FAKE_00000002"  # new sessions still work


def test_usehistory_search_then_efetch_by_query_key(fake: FakeEutils) -> None:
    webenv, key = link_history(fake)
    root = xml(
        pubmed_search(fake, webenv, f"#{key} AND {THERAPY}", sort="pub_date", usehistory="y")
    )
    assert root.findtext("WebEnv") == webenv
    assert root.findtext("QueryKey") == "2"
    params = {"db": "pubmed", "WebEnv": webenv, "query_key": "2", "retmode": "xml"}
    body = get(fake, "efetch", retstart="1", retmax="2", **params)[2]
    assert texts(xml(body), "PubmedArticle/MedlineCitation/PMID") == ["107", "101"]


# ------------------------------------------------------------------------- efetch, einfo


def test_efetch_keeps_request_order_and_skips_unknown_ids(fake: FakeEutils) -> None:
    status, _, body = get(fake, "efetch", db="pubmed", id="104,999,101", retmode="xml")
    assert status == 200
    assert body.startswith(b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC')
    assert texts(xml(body), "PubmedArticle/MedlineCitation/PMID") == ["104", "101"]


def test_efetch_post_300_ids_with_withheld_pmids() -> None:
    articles = [pubmed_article(p, year=2000 + p % 20, doi=f"10.1/{p}") for p in range(1, 301)]
    with FakeEutils(Dataset(articles=articles)) as fake:
        fake.withhold = {7, 250}
        status, body = post(fake, "efetch", db="pubmed", id=",".join(map(str, range(300, 0, -1))))
        assert fake.requests[-1].method == "POST"
        assert len(fake.requests[-1].params["id"].split(",")) == 300
    pmids = [int(p) for p in texts(xml(body), "PubmedArticle/MedlineCitation/PMID")]
    assert status == 200
    assert pmids == [p for p in range(300, 0, -1) if p not in (7, 250)]


def test_efetch_output_is_valid_against_the_pubmed_dtd(fake: FakeEutils) -> None:
    bio = pytest.importorskip("Bio")
    dtd_path = Path(bio.__file__).parent / "Entrez" / "DTDs" / "pubmed_250101.dtd"
    if not dtd_path.exists():
        pytest.skip("Biopython ships no pubmed_250101.dtd")
    body = get(fake, "efetch", db="pubmed", id=",".join(map(str, [*DATES, 107])))[2]
    dtd = etree.DTD(str(dtd_path))
    assert dtd.validate(xml(body)), str(dtd.error_log)


def test_einfo_serves_known_dbs_and_errors_on_unknown(fake: FakeEutils) -> None:
    assert xml(get(fake, "einfo", db="medgen")[2]).findtext("DbInfo/DbName") == "medgen"
    status, _, body = get(fake, "einfo", db="fleegle")
    assert status == 200
    assert xml(body).findtext("ERROR") == "Can not retrieve DbInfo for db=fleegle"


def test_unknown_utility_or_db_is_http_400(fake: FakeEutils) -> None:
    assert get(fake, "egquery", term="x")[0] == 400
    assert get(fake, "esearch", db="fleegle", term="x")[0] == 400
    assert get(fake, "efetch", db="medgen", id="1")[0] == 400


def test_bodies_parse_with_bio_entrez_offline(
    fake: FakeEutils, monkeypatch: pytest.MonkeyPatch
) -> None:
    entrez_parser = pytest.importorskip("Bio.Entrez.Parser")
    from Bio import Entrez

    def no_network(url: str) -> None:
        raise AssertionError(f"Bio.Entrez tried to download {url}")

    monkeypatch.setattr(entrez_parser, "urlopen", no_network)
    webenv, key = link_history(fake)
    with urllib.request.urlopen(
        _url(fake, "esearch", {"db": "pubmed", "term": f"#{key}", "WebEnv": webenv})
    ) as r:
        assert Entrez.read(r)["Count"] == "7"
    elink_params = {"dbfrom": "medgen", "db": "pubmed", "id": UID, "cmd": "neighbor_history"}
    with urllib.request.urlopen(_url(fake, "elink", elink_params)) as r:
        assert Entrez.read(r)[0]["LinkSetDbHistory"][0]["QueryKey"] == "1"
    with urllib.request.urlopen(_url(fake, "efetch", {"db": "pubmed", "id": "101"})) as r:
        assert str(Entrez.read(r)["PubmedArticle"][0]["MedlineCitation"]["PMID"]) == "101"


# ------------------------------------------------------------------------- recording


def test_requests_record_get_and_post_params_including_api_key(fake: FakeEutils) -> None:
    key = "sekret-api-key-123"
    responses = [get(fake, "einfo", db="pubmed", api_key=key)[2]]
    responses.append(post(fake, "esummary", db="medgen", id=UID, api_key=key)[1])
    assert [(r.method, r.utility) for r in fake.requests] == [
        ("GET", "einfo"),
        ("POST", "esummary"),
    ]
    assert all(r.params["api_key"] == key for r in fake.requests)
    assert fake.requests[1].params == {"db": "medgen", "id": UID, "api_key": key}
    assert fake.requests[0].time <= fake.requests[1].time <= time.monotonic()
    assert all(key.encode() not in body for body in responses)


# ------------------------------------------------------------------------- faults


def test_http_status_fault_with_retry_after(fake: FakeEutils) -> None:
    fake.inject("esearch", Fault.http(429, retry_after=2))
    status, headers, body = get(fake, "esearch", db="medgen", term=CUI)
    assert (status, headers["Retry-After"]) == (429, "2")
    assert json.loads(body)["error"] == "API rate limit exceeded"
    assert get(fake, "esearch", db="medgen", term=CUI)[0] == 200  # consumed


@pytest.mark.parametrize("code", [500, 502, 503, 504, 400, 404])
def test_http_status_faults(fake: FakeEutils, code: int) -> None:
    fake.inject(None, Fault.http(code, body=b"<html>down</html>"))
    status, headers, body = get(fake, "einfo", db="pubmed")
    assert (status, body) == (code, b"<html>down</html>")
    assert "Retry-After" not in headers


def test_faults_are_fifo_per_utility_and_none_matches_any(fake: FakeEutils) -> None:
    fake.inject("esearch", Fault.http(500))
    fake.inject(None, Fault.http(502))
    fake.inject("esearch", Fault.http(503))
    assert get(fake, "einfo", db="pubmed")[0] == 502
    assert get(fake, "esearch", db="medgen", term=CUI)[0] == 500
    assert get(fake, "esearch", db="medgen", term=CUI)[0] == 503
    assert get(fake, "esearch", db="medgen", term=CUI)[0] == 200


def test_reset_fault_closes_without_answering(fake: FakeEutils) -> None:
    fake.inject("efetch", Fault.reset())
    with pytest.raises(ConnectionResetError):
        get(fake, "efetch", db="pubmed", id="101")
    assert fake.requests[-1].utility == "efetch"  # recorded although never answered
    assert get(fake, "efetch", db="pubmed", id="101")[0] == 200


def test_hang_fault_times_the_client_out(fake: FakeEutils) -> None:
    fake.inject("esearch", Fault.hang(2.0))
    started = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        fetch(fake, "esearch", {"db": "medgen", "term": CUI}, timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert get(fake, "esearch", db="medgen", term=CUI)[0] == 200  # other requests still served


def test_hang_then_answer_is_a_slow_server(fake: FakeEutils) -> None:
    fake.inject("einfo", Fault.hang(0.3, then_answer=True))
    started = time.monotonic()
    assert get(fake, "einfo", db="pubmed")[0] == 200
    assert time.monotonic() - started >= 0.3


def test_hang_does_not_block_shutdown() -> None:
    fake = FakeEutils(make_dataset()).start()
    fake.inject(None, Fault.hang(60.0))
    outcome: list[BaseException] = []

    def client() -> None:
        try:
            fetch(fake, "einfo", {"db": "pubmed"}, timeout=10)
        except (OSError, http.client.HTTPException) as exc:
            outcome.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    while not fake.requests:
        time.sleep(0.01)
    started = time.monotonic()
    fake.stop()
    thread.join(timeout=5)
    assert time.monotonic() - started < 2.0
    assert outcome
    assert not thread.is_alive()


def test_trickle_fault_sends_a_valid_body_slowly(fake: FakeEutils) -> None:
    expected = get(fake, "einfo", db="medgen")[2]
    fake.inject("einfo", Fault.trickle(interval_ms=1))
    started = time.monotonic()
    status, _, body = get(fake, "einfo", db="medgen")
    assert (status, body) == (200, expected)
    assert time.monotonic() - started >= len(expected) * 0.001


def test_truncated_fault_breaks_content_length(fake: FakeEutils) -> None:
    fake.inject("efetch", Fault.truncated())
    with pytest.raises(http.client.IncompleteRead):
        get(fake, "efetch", db="pubmed", id="101,102")


def test_cut_xml_fault_has_honest_length_and_broken_xml(fake: FakeEutils) -> None:
    full = get(fake, "efetch", db="pubmed", id="101,102")[2]
    fake.inject("efetch", Fault.cut_xml())
    status, headers, body = get(fake, "efetch", db="pubmed", id="101,102")
    assert status == 200
    assert int(headers["Content-Length"]) == len(body) < len(full)
    assert full.startswith(body)
    assert body.rsplit(b"<", 1)[1].isalpha()  # stops inside a tag name
    with pytest.raises(etree.XMLSyntaxError):
        xml(body)


@pytest.mark.parametrize(
    ("utility", "params", "root"),
    [
        ("esearch", {"db": "medgen", "term": CUI}, "eSearchResult"),
        ("esummary", {"db": "medgen", "id": UID}, "eSummaryResult"),
        ("elink", {"dbfrom": "medgen", "db": "pubmed", "id": UID}, "eLinkResult"),
        ("efetch", {"db": "pubmed", "id": "101"}, "eFetchResult"),
    ],
)
def test_error_body_fault(
    fake: FakeEutils, utility: str, params: dict[str, str], root: str
) -> None:
    fake.inject(utility, Fault.error("Search Backend failed: timeout"))
    status, _, body = get(fake, utility, **params)
    assert status == 200
    assert body.startswith(
        f'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE {root} PUBLIC'.encode()
    )
    assert xml(body).tag == root
    assert xml(body).findtext("ERROR") == "Search Backend failed: timeout"


def test_html_fault_is_a_200_html_page(fake: FakeEutils) -> None:
    fake.inject(None, Fault.html())
    status, headers, body = get(fake, "esearch", db="medgen", term=CUI)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"<html" in body
    assert b"eSearchResult" not in body


@pytest.mark.parametrize("declare_length", [True, False])
def test_huge_fault_pads_the_answer_with_comments_to_the_size_asked(
    fake: FakeEutils, declare_length: bool
) -> None:
    normal = get(fake, "efetch", db="pubmed", id="101,102")[2]
    fake.inject("efetch", Fault.huge(300_000, declare_length=declare_length))
    status, headers, body = get(fake, "efetch", db="pubmed", id="101,102")
    assert status == 200
    assert len(body) == 300_000
    assert (headers["Content-Length"] is not None) == declare_length
    assert etree.tostring(xml(body)) == etree.tostring(xml(normal))
    assert fake.huge_sent == [len(body) - len(normal)]


# ------------------------------------------------------------------------- datasets


def test_pub_date_key_handles_missing_parts_and_medline_date() -> None:
    def key(**kwargs: object) -> tuple[int, int, int]:
        return pub_date_key(xml(pubmed_article(1, **kwargs).encode()))  # type: ignore[arg-type]

    assert key(year=2021, month=5, day=3) == (2021, 5, 3)
    assert key(year=2021, month=None) == (2021, 0, 0)
    assert key(medline_date="1998 Dec-1999 Jan") == (1998, 0, 0)
    assert key(year=None) == (0, 0, 0)


def test_dataset_from_dir(tmp_path: Path) -> None:
    concept = FakeConcept("336867", "C1845167", "Dent disease 2")
    (tmp_path / "medgen.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<eSummaryResult>\n<DocumentSummarySet status="OK">\n'
        f"<DbBuild>Build141124-1357.1</DbBuild>\n\n{concept.document_summary()}\n\n"
        "</DocumentSummarySet>\n</eSummaryResult>\n"
    )
    (tmp_path / "pubmed.xml").write_text(
        f"<PubmedArticleSet>{''.join(_articles())}</PubmedArticleSet>"
    )
    (tmp_path / "links.json").write_text(json.dumps({"336867": [101, 104]}))
    (tmp_path / "filters.json").write_text(json.dumps({THERAPY: [104]}))
    einfo = b'<?xml version="1.0" encoding="UTF-8" ?>\n<eInfoResult><DbInfo/></eInfoResult>\n'
    (tmp_path / "einfo-pubmed.xml").write_bytes(einfo)
    with FakeEutils(Dataset.from_dir(tmp_path)) as fake:
        summary = get(fake, "esummary", db="medgen", id="336867")[2]
        webenv, key = link_history(fake, uid="336867")
        assert ids(pubmed_search(fake, webenv, f"#{key} AND {THERAPY}")) == [104]
        assert get(fake, "einfo", db="pubmed")[2] == einfo
    assert b"<DbBuild>Build141124-1357.1</DbBuild>" in summary
    assert concept.document_summary().encode() in summary


# ------------------------------------------------------------------------- a server that lies


def _lied_search(fake: FakeEutils, **extra: str) -> etree._Element:
    webenv, key = link_history(fake)
    return xml(pubmed_search(fake, webenv, f"#{key}", sort="pub_date", usehistory="y", **extra))


def test_repeat_ids_fills_a_page_with_its_first_half_twice(fake: FakeEutils) -> None:
    fake.lie("repeat_ids")
    page = _lied_search(fake)
    assert page.findtext("Count") == "7"
    assert [int(i) for i in texts(page, "IdList/Id")] == (ALL_BY_DATE[:4] * 2)[:7]


def test_high_count_says_a_third_more_than_the_search_holds(fake: FakeEutils) -> None:
    fake.lie("high_count")
    page = _lied_search(fake)
    assert page.findtext("Count") == "9"
    assert [int(i) for i in texts(page, "IdList/Id")] == ALL_BY_DATE


def test_short_pages_leave_out_the_last_id_due_and_lies_stop_after_times(fake: FakeEutils) -> None:
    fake.lie("short_pages", times=1)
    short = _lied_search(fake, retstart="2", retmax="3")
    assert [int(i) for i in texts(short, "IdList/Id")] == ALL_BY_DATE[2:4]
    honest = _lied_search(fake, retstart="2", retmax="3")
    assert [int(i) for i in texts(honest, "IdList/Id")] == ALL_BY_DATE[2:5]
    assert fake.lies_told("short_pages") == 1


def test_efetch_lies_add_a_second_copy_and_an_unasked_record(fake: FakeEutils) -> None:
    from tests.fakes.eutils_server import UNASKED_PMID

    fake.lie("duplicate_pmid")
    fake.lie("unasked_pmid")
    _, _, body = get(fake, "efetch", db="pubmed", id="104,101", retmode="xml")
    root = xml(body)
    pmids = texts(root, "PubmedArticle/MedlineCitation/PMID")
    assert pmids == ["104", "101", "104", str(UNASKED_PMID)]
    titles = texts(root, "PubmedArticle/MedlineCitation/Article/ArticleTitle")
    assert titles[0] != titles[2]
