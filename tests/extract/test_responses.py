import time

import pytest

from pipeline.errors import EutilsError, ResponseFormatError, TransientError
from pipeline.extract.responses import (
    check_body,
    parse_einfo,
    parse_elink_histories,
    parse_elink_history,
    parse_esearch,
    search_page_problem,
)
from pipeline.models import SearchResult

HISTORY = b"""<?xml version="1.0" encoding="UTF-8" ?>
<eLinkResult><LinkSet><DbFrom>medgen</DbFrom><IdList><Id>1662593</Id></IdList>
<LinkSetDbHistory><DbTo>pubmed</DbTo><LinkName>medgen_pubmed</LinkName><QueryKey>1</QueryKey>
</LinkSetDbHistory><WebEnv>MCID_1</WebEnv></LinkSet></eLinkResult>"""

EMPTY_INFO = b"""<eLinkResult><LinkSet><DbFrom>medgen</DbFrom><IdList><Id>5</Id></IdList>
<LinkSetDbHistory><DbTo>pubmed</DbTo><LinkName>medgen_pubmed</LinkName><QueryKey>1</QueryKey>
<Info>Empty result</Info></LinkSetDbHistory><WebEnv>MCID_2</WebEnv></LinkSet></eLinkResult>"""


def test_elink_history_gives_webenv_and_query_key():
    link = parse_elink_history(check_body("elink", HISTORY), 1662593)
    assert (link.webenv, link.query_key, link.empty) == ("MCID_1", "1", False)


def test_elink_with_empty_history_entry_is_an_empty_link_set():
    assert parse_elink_history(check_body("elink", EMPTY_INFO), 5).empty


def test_elink_without_history_entry_is_an_empty_link_set(samples):
    body = (samples / "metapub" / "medgen_elink_pubmed_0_entries.xml").read_bytes()
    assert parse_elink_history(check_body("elink", body), 0).empty


def _link_set(uids: str, key: str | None, webenv: str | None = "MCID_9") -> str:
    ids = "".join(f"<Id>{u}</Id>" for u in uids.split(","))
    history = (
        f"<LinkSetDbHistory><DbTo>pubmed</DbTo><LinkName>medgen_pubmed</LinkName>"
        f"<QueryKey>{key}</QueryKey></LinkSetDbHistory>"
        if key
        else ""
    )
    session = f"<WebEnv>{webenv}</WebEnv>" if webenv else ""
    return f"<LinkSet><DbFrom>medgen</DbFrom><IdList>{ids}</IdList>{history}{session}</LinkSet>"


def _histories(*sets: str) -> bytes:
    return f"<eLinkResult>{''.join(sets)}</eLinkResult>".encode()


def test_elink_histories_give_each_uid_its_own_query_key():
    body = _histories(_link_set("11", "1"), _link_set("12", None), _link_set("13", "2", None))
    links = parse_elink_histories(check_body("elink", body), [11, 12, 13])
    assert {u: (h.webenv, h.query_key) for u, h in links.items()} == {
        11: ("MCID_9", "1"),
        12: ("MCID_9", None),
        13: ("MCID_9", "2"),  # a LinkSet without a WebEnv is in the answer's session
    }
    assert links[12].empty


@pytest.mark.parametrize(
    ("sets", "problem"),
    [
        ((_link_set("11", "1"),), r"no LinkSet for MedGen UID\(s\) 12"),
        ((_link_set("11,12", "1"),), "a LinkSet for 2 ids"),
        ((_link_set("11", "1"), _link_set("11", "2"), _link_set("12", "3")), "11, again"),
        ((_link_set("11", "1"), _link_set("12", "2"), _link_set("99", "3")), "not asked for"),
    ],
)
def test_elink_histories_refuse_an_answer_that_cannot_be_attributed(sets, problem):
    with pytest.raises(ResponseFormatError, match=problem):
        parse_elink_histories(check_body("elink", _histories(*sets)), [11, 12])


def test_esearch_with_history_is_read(samples):
    body = (samples / "biopython" / "esearch2.xml").read_bytes()
    result = parse_esearch(check_body("esearch", body))
    assert result.count == 42249
    assert len(result.ids) == 100
    assert result.ids[0] == 41297076
    assert result.webenv == "MCID_6927d6e7fee3e90f880ec190"
    assert result.query_key == "1"


def test_esearch_phrase_not_found_is_reported(samples):
    body = (samples / "biopython" / "esearch8.xml").read_bytes()
    assert parse_esearch(check_body("esearch", body)).phrases_not_found == ("abcXYZ",)


def test_esearch_silently_dropped_term_is_reported(samples):
    # NCBI answered 5163 hits for the part it understood; the ErrorList is the only sign.
    body = (samples / "eutils-json" / "esearch.error.xml").read_bytes()
    result = parse_esearch(check_body("esearch", body))
    assert result.count == 5163
    assert result.phrases_not_found == ("fleegle[MeSH Terms]",)


@pytest.mark.parametrize(
    ("utility", "name"),
    [
        ("esearch", "eutils-json/esearch.baderror.xml"),
        ("esummary", "eutils-json/esummary.error.xml"),
        ("esummary", "biopython/esummary8.xml"),
        ("einfo", "eutils-json/einfo.error.xml"),
    ],
)
def test_error_bodies_with_http_200_are_errors(samples, utility, name):
    with pytest.raises(EutilsError, match="NCBI reported"):
        check_body(utility, (samples / name).read_bytes())


def test_einfo_gives_build_and_last_update(samples):
    info = parse_einfo(check_body("einfo", (samples / "biopython" / "einfo2.xml").read_bytes()))
    assert (info.db, info.db_build, info.last_update) == (
        "pubmed",
        "Build-2025.11.27.06.33",
        "2025/11/27 06:33",
    )


@pytest.mark.parametrize(
    "body",
    [
        b"<eSearchResult><Count>3</Count><IdList><Id>1</Id>",
        b"",
        b"<html><body>Bad gateway</body></html>",
        b"<!DOCTYPE html><html></html>",
    ],
)
def test_truncated_or_html_bodies_are_transient(body):
    with pytest.raises(TransientError):
        check_body("esearch", body)


def test_backend_error_body_is_transient():
    body = b"<eSearchResult><ERROR>Search Backend failed: timeout</ERROR></eSearchResult>"
    with pytest.raises(TransientError):
        check_body("esearch", body)


def test_wrong_root_element_is_a_format_error():
    with pytest.raises(ResponseFormatError, match="expected <eInfoResult>"):
        check_body("einfo", b"<eSearchResult><Count>0</Count></eSearchResult>")


def test_a_document_declaring_an_external_entity_is_refused_unread():
    body = b"""<?xml version="1.0"?>
<!DOCTYPE eInfoResult [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<eInfoResult><DbInfo><DbName>&x;</DbName></DbInfo></eInfoResult>"""
    with pytest.raises(ResponseFormatError, match="declares entities"):
        check_body("einfo", body)


def test_an_entity_expansion_bomb_is_refused_quickly():
    levels = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 12))
    body = (
        f'<?xml version="1.0"?><!DOCTYPE eInfoResult [<!ENTITY e0 "lol">{levels}]>'
        "<eInfoResult><DbInfo><DbName>&e11;</DbName></DbInfo></eInfoResult>"
    ).encode()
    start = time.monotonic()
    # libxml2's own amplification guard or our refusal of entity declarations:
    # either way a permanent error, raised without expanding the entities.
    with pytest.raises(ResponseFormatError, match="entit"):
        check_body("einfo", body)
    assert time.monotonic() - start < 1.0


def test_a_deeply_nested_document_is_refused_without_retrying():
    body = b"<eInfoResult>" + b"<a>" * 10_000 + b"</a>" * 10_000 + b"</eInfoResult>"
    with pytest.raises(ResponseFormatError, match="depth"):
        check_body("einfo", body)


def test_a_non_xml_body_is_an_error_not_a_crash():
    with pytest.raises(TransientError, match="incomplete XML"):
        check_body("efetch", b"Service Temporarily Unavailable")


# ------------------------------------------------------------------ esearch pages that lie


@pytest.mark.parametrize(
    ("count", "retstart", "ids", "retmax", "seen", "problem"),
    [
        (48, 0, range(1, 49), 9999, (), None),
        (48, 40, range(41, 49), 10, range(1, 41), None),  # the last page holds what is left
        (48, 0, range(1, 11), 10, (), None),
        (5, 0, (), 0, (), None),  # a count-only search
        (
            48,
            0,
            range(1, 37),
            9999,
            (),
            "Count 48, RetStart 0, retmax 9999: 36 ids on the page, 48 due",
        ),
        (48, 10, range(11, 20), 10, range(1, 11), "9 ids on the page, 10 due"),
        (3, 0, (1, 2, 3, 4), 9999, (), "4 ids on the page, 3 due"),
        (4, 0, (1, 2, 1, 2), 9999, (), "2 of the page's 4 ids repeat ids of the same page"),
        (20, 10, range(5, 15), 10, range(1, 11), "6 ids already on an earlier page (e.g. PMID 5)"),
    ],
)
def test_an_esearch_page_must_hold_exactly_the_ids_its_count_leaves_due(
    count, retstart, ids, retmax, seen, problem
):
    page = SearchResult(count=count, retstart=retstart, ids=tuple(ids))
    found = search_page_problem(page, retstart=retstart, retmax=retmax, seen=frozenset(seen))
    assert found == problem if problem is None else problem in (found or "")


def test_an_esearch_page_from_another_offset_is_inconsistent():
    page = SearchResult(count=48, retstart=0, ids=tuple(range(1, 11)))
    assert search_page_problem(page, retstart=10, retmax=10) == ("RetStart 0, but 10 was asked for")
