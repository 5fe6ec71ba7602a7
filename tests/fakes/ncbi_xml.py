"""Response bodies in the exact shapes NCBI E-utilities send (see ../shared/ncbi-samples).

Bodies are written as strings rather than through a serializer because the layout is part
of what is being faked: the XML declaration with its space before ``?>``, the DOCTYPE lines,
esearch's one-line result with one Id per line, elink's indentation, efetch's articles run
together on one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

XML_DECL = '<?xml version="1.0" encoding="UTF-8" ?>'
# efetch db=pubmed writes a shorter declaration (biopython/pubmed1.xml, pubmed2.xml).
PUBMED_XML_DECL = '<?xml version="1.0" ?>'

_DTD = "https://eutils.ncbi.nlm.nih.gov/eutils/dtd"
ESEARCH_DOCTYPE = (
    '<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    f'"{_DTD}/20060628/esearch.dtd">'
)
ELINK_DOCTYPE = (
    f'<!DOCTYPE eLinkResult PUBLIC "-//NLM//DTD elink 20101123//EN" "{_DTD}/20101123/elink.dtd">'
)
EINFO_DOCTYPE = (
    f'<!DOCTYPE eInfoResult PUBLIC "-//NLM//DTD einfo 20190110//EN" "{_DTD}/20190110/einfo.dtd">'
)
ESUMMARY_MEDGEN_DOCTYPE = (
    '<!DOCTYPE eSummaryResult PUBLIC "-//NLM//DTD esummary medgen 20130524//EN" '
    f'"{_DTD}/20130524/esummary_medgen.dtd">'
)
ESUMMARY_V1_DOCTYPE = (
    '<!DOCTYPE eSummaryResult PUBLIC "-//NLM//DTD esummary v1 20041029//EN" '
    f'"{_DTD}/20041029/esummary-v1.dtd">'
)
EFETCH_DOCTYPE = (
    f'<!DOCTYPE eFetchResult PUBLIC "-//NLM//DTD efetch 20131226//EN" "{_DTD}/20131226/efetch.dtd">'
)
EPOST_DOCTYPE = (
    f'<!DOCTYPE ePostResult PUBLIC "-//NLM//DTD epost 20090526//EN" "{_DTD}/20090526/epost.dtd">'
)
PUBMED_DOCTYPE = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)

# The result element (and its DOCTYPE) an ERROR body sits in, per utility.
RESULT_ELEMENTS: dict[str, tuple[str, str]] = {
    "esearch": ("eSearchResult", ESEARCH_DOCTYPE),
    "esummary": ("eSummaryResult", ESUMMARY_V1_DOCTYPE),
    "elink": ("eLinkResult", ELINK_DOCTYPE),
    "efetch": ("eFetchResult", EFETCH_DOCTYPE),
    "einfo": ("eInfoResult", EINFO_DOCTYPE),
    "epost": ("ePostResult", EPOST_DOCTYPE),
}

# NCBI escapes quotes in text nodes too (see eutils-json/esummary.medgen.xml).
_TEXT_ENTITIES = {"'": "&apos;", '"': "&quot;"}


def xml_text(value: str) -> str:
    """Escape text the way NCBI writes it inside elements."""
    return escape(value, _TEXT_ENTITIES)


def error_body(utility: str, *messages: str) -> bytes:
    """An HTTP 200 ERROR body, laid out like biopython/esummary8.xml and epost2.xml."""
    root, doctype = RESULT_ELEMENTS.get(utility, RESULT_ELEMENTS["esearch"])
    errors = "".join(f"\t<ERROR>{xml_text(m)}</ERROR>\n" for m in messages)
    return f"{XML_DECL}\n{doctype}\n<{root}>\n{errors}</{root}>\n".encode()


def bad_request_body(message: str) -> bytes:
    return f"{XML_DECL}\n<ERROR>{xml_text(message)}</ERROR>\n".encode()


# ------------------------------------------------------------------------- esearch


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One esearch answer: the whole count and the page of ids actually returned."""

    count: int
    retstart: int
    ids: Sequence[int | str]
    query_translation: str
    query_key: int | None = None
    webenv: str | None = None
    not_found: Sequence[str] = ()


def _id_list(ids: Sequence[int | str]) -> str:
    # esearch2.xml: "<IdList>\n<Id>1</Id>\n...</IdList>"; esearch8.xml: "<IdList/>" when empty.
    if not ids:
        return "<IdList/>"
    return "<IdList>\n" + "".join(f"<Id>{i}</Id>\n" for i in ids) + "</IdList>"


def _search_tail(page: SearchPage) -> str:
    tail = (
        f"<TranslationSet/><QueryTranslation>{xml_text(page.query_translation)}</QueryTranslation>"
    )
    if page.not_found:
        phrases = "".join(f"<PhraseNotFound>{xml_text(p)}</PhraseNotFound>" for p in page.not_found)
        tail += f"<ErrorList>{phrases}</ErrorList>"
    if page.count == 0:
        tail += "<WarningList><OutputMessage>No items found.</OutputMessage></WarningList>"
    return tail


def esearch_body(page: SearchPage) -> bytes:
    # RetMax reports how many ids came back, as NCBI does (esearch8.xml: 0 for no hits).
    head = (
        f"<Count>{page.count}</Count><RetMax>{len(page.ids)}</RetMax>"
        f"<RetStart>{page.retstart}</RetStart>"
    )
    if page.query_key is not None and page.webenv is not None:
        head += f"<QueryKey>{page.query_key}</QueryKey><WebEnv>{xml_text(page.webenv)}</WebEnv>"
    result = f"<eSearchResult>{head}{_id_list(page.ids)}{_search_tail(page)}</eSearchResult>"
    return f"{XML_DECL}\n{ESEARCH_DOCTYPE}\n{result}\n".encode()


# ------------------------------------------------------------------------- elink


def _link_set_head(db_from: str, ids: Sequence[str]) -> str:
    id_lines = "".join(f"      <Id>{xml_text(i)}</Id>\n" for i in ids)
    return f"  <LinkSet>\n    <DbFrom>{db_from}</DbFrom>\n    <IdList>\n{id_lines}    </IdList>\n"


def _elink_document(*link_sets: str) -> bytes:
    # elink1.xml: a blank line after <eLinkResult>, two-space indentation inside.
    sets = "".join(f"{link_set}  </LinkSet>\n" for link_set in link_sets)
    body = f"{XML_DECL}\n{ELINK_DOCTYPE}\n<eLinkResult>\n\n{sets}</eLinkResult>\n"
    return body.encode()


def elink_histories_body(db_from: str, webenv: str, sets: Sequence[tuple[str, str]]) -> bytes:
    """cmd=neighbor_history with id=1&id=2: one LinkSet per UID, as (uid, LinkSet body)
    pairs made by ``history_link_set``; every set in the one session."""
    return _elink_document(
        *(_link_set_head(db_from, [uid]) + inner + _webenv_line(webenv) for uid, inner in sets)
    )


def history_link_set(link: tuple[str, str, int] | None, info: str | None = None) -> str:
    """A LinkSetDbHistory element; ``link`` is (DbTo, LinkName, QueryKey), None: none."""
    if link is None:
        return ""
    db_to, link_name, query_key = link
    info_line = f"      <Info>{xml_text(info)}</Info>\n" if info is not None else ""
    return (
        f"    <LinkSetDbHistory>\n      <DbTo>{db_to}</DbTo>\n"
        f"      <LinkName>{link_name}</LinkName>\n"
        f"      <QueryKey>{query_key}</QueryKey>\n{info_line}    </LinkSetDbHistory>\n"
    )


def _webenv_line(webenv: str) -> str:
    return f"    <WebEnv>{xml_text(webenv)}</WebEnv>\n"


def elink_history_body(
    db_from: str,
    ids: Sequence[str],
    webenv: str,
    link: tuple[str, str, int] | None,
    *,
    info: str | None = None,
) -> bytes:
    """cmd=neighbor_history; ``link`` is (DbTo, LinkName, QueryKey), None to leave it out."""
    history = history_link_set(link, info)
    return _elink_document(_link_set_head(db_from, ids) + history + _webenv_line(webenv))


def elink_neighbor_body(
    db_from: str, ids: Sequence[str], db_to: str, link_name: str, links: Sequence[int]
) -> bytes:
    """cmd=neighbor; no LinkSetDb at all when nothing links (medgen_elink_pubmed_0_entries.xml)."""
    link_set_db = ""
    if links:
        items = "".join(f"        <Link>\n\t\t\t\t<Id>{p}</Id>\n\t\t\t</Link>\n" for p in links)
        link_set_db = (
            f"    <LinkSetDb>\n      <DbTo>{db_to}</DbTo>\n      <LinkName>{link_name}</LinkName>\n"
            f"      \n{items}      \n    </LinkSetDb>\n"
        )
    return _elink_document(_link_set_head(db_from, ids) + link_set_db)


# ------------------------------------------------------------------------- esummary, efetch, einfo

SUMMARY_ERROR = "cannot get document summary"


def missing_summary(uid: str) -> str:
    error = f"\t<error>{SUMMARY_ERROR}</error>\n"
    return f'<DocumentSummary uid="{xml_text(uid)}">\n{error}</DocumentSummary>'


def esummary_medgen_body(db_build: str, summaries: Sequence[str]) -> bytes:
    """Layout of metapub/medgen_concept_336867.xml: DbBuild, then each summary and a blank line."""
    docs = "".join(f"{s}\n\n" for s in summaries)
    return (
        f"{XML_DECL}\n{ESUMMARY_MEDGEN_DOCTYPE}\n<eSummaryResult>\n"
        f'<DocumentSummarySet status="OK">\n<DbBuild>{xml_text(db_build)}</DbBuild>\n\n'
        f"{docs}</DocumentSummarySet>\n</eSummaryResult>\n"
    ).encode()


def pubmed_set_body(articles: Sequence[str]) -> bytes:
    """efetch db=pubmed retmode=xml: articles run together, no newline at the end (pubmed2.xml)."""
    joined = "".join(articles)
    body = f"{PUBMED_XML_DECL}\n{PUBMED_DOCTYPE}\n<PubmedArticleSet>\n{joined}</PubmedArticleSet>"
    return body.encode()


def einfo_db_list_body(dbs: Sequence[str]) -> bytes:
    names = "".join(f"\t\t<DbName>{xml_text(db)}</DbName>\n" for db in dbs)
    body = f"<eInfoResult>\n\t<DbList>\n{names}\t</DbList>\n</eInfoResult>\n"
    return f"{XML_DECL}\n{EINFO_DOCTYPE}\n{body}".encode()


def minimal_einfo(db: str, menu_name: str, count: int, db_build: str) -> bytes:
    """An eInfoResult like biopython/einfo2.xml, cut down to the DbInfo header fields."""
    return (
        f"{XML_DECL}\n{EINFO_DOCTYPE}\n<eInfoResult>\n\t<DbInfo>\n\t\t<DbName>{db}</DbName>\n"
        f"\t\t<MenuName>{menu_name}</MenuName>\n"
        f"\t\t<Description>{menu_name} records</Description>\n"
        f"\t\t<DbBuild>{xml_text(db_build)}</DbBuild>\n\t\t<Count>{count}</Count>\n"
        "\t\t<LastUpdate>2025/11/27 01:04</LastUpdate>\n\t</DbInfo>\n</eInfoResult>\n"
    ).encode()
