"""Reading the E-utilities answers that steer extraction (esearch, elink, einfo).

Also the gatekeeper for every body before it may enter the raw store: it must be
a complete XML document of the expected kind, and not an ``<ERROR>`` answer or
an HTML error page dressed as HTTP 200.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from lxml import etree

from pipeline.errors import EutilsError, ResponseFormatError, TransientError
from pipeline.models import DbInfo, LinkHistory, SearchResult
from pipeline.xmlsafe import parse_xml

# The root element each utility answers with.
ROOTS = {
    "esearch": "eSearchResult",
    "esummary": "eSummaryResult",
    "elink": "eLinkResult",
    "efetch": "PubmedArticleSet",
    "einfo": "eInfoResult",
}

# <ERROR> texts NCBI sends for passing backend trouble: worth another attempt.
TRANSIENT_ERROR_PATTERNS = (
    re.compile(r"backend", re.I),
    re.compile(r"temporar", re.I),
    re.compile(r"try again", re.I),
    re.compile(r"timed? ?out", re.I),
    re.compile(r"unavailable", re.I),
    re.compile(r"internal server error", re.I),
)


# ...unless the text says the request itself is impossible (it would fail again).
PERMANENT_ERROR_PATTERNS = (re.compile(r"cannot be larger than|invalid|not supported", re.I),)


def is_transient_error_text(text: str) -> bool:
    if any(p.search(text) for p in PERMANENT_ERROR_PATTERNS):
        return False
    return any(p.search(text) for p in TRANSIENT_ERROR_PATTERNS)


def _text(el: etree._Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    value = el.text.strip()
    return value or None


def _looks_cut(utility: str, body: bytes) -> bool:
    """A body that stops before its root's closing tag was cut in transit."""
    closing = f"</{ROOTS[utility]}>".encode()
    tail = body.rstrip()[-len(closing) - 64 :]
    return closing not in tail and b"</eFetchResult>" not in tail


def check_body(utility: str, body: bytes) -> etree._Element:
    """Parse and vet one body; return its root, or raise the right error.

    A half XML document (a body cut mid-element) is transient: it is retried and
    never stored. A whole document that is not well-formed, or that declares
    entities (NCBI never does; entity bombs do), is rejected at once. HTML
    instead of XML is an error page from a proxy or NCBI's front end; an
    ``<ERROR>`` child is E-utilities' own way to fail with 200.
    """
    head = body.lstrip()[:200].lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise TransientError(f"{utility}: got an HTML page instead of XML")
    try:
        root = parse_xml(body, what=utility)
    except ResponseFormatError as exc:
        if _looks_cut(utility, body):
            raise TransientError(f"{utility}: incomplete XML ({exc.detail})") from exc
        raise
    _refuse_entity_declarations(utility, root)
    # Checked before the root's name: efetch fails as <eFetchResult><ERROR>.
    error = root.find("ERROR")
    if error is None and utility == "esummary":
        error = root.find("DocumentSummarySet/ERROR")
    if error is not None:
        text = (error.text or "").strip() or "empty ERROR element"
        if is_transient_error_text(text):
            raise TransientError(f"{utility}: NCBI reported: {text}")
        raise EutilsError(f"{utility}: NCBI reported: {text}")
    if root.tag != ROOTS[utility]:
        raise ResponseFormatError(f"{utility}: expected <{ROOTS[utility]}>, got <{root.tag}>")
    return root


def _refuse_entity_declarations(utility: str, root: etree._Element) -> None:
    # lxml-stubs lack DTD.iterentities(); lxml has had it since 3.0.
    dtd: Any = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ResponseFormatError(f"{utility}: the document declares entities; refused")


def parse_esearch(root: etree._Element) -> SearchResult:
    count = _int(root.findtext("Count"), "esearch Count")
    ids = tuple(_int(el.text, "esearch Id") for el in root.iterfind("IdList/Id"))
    errors = root.find("ErrorList")
    not_found: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    if errors is not None:
        not_found = tuple(t for el in errors.iter("PhraseNotFound") if (t := _text(el)))
        other = tuple(
            f"{el.tag}: {t}" for el in errors if el.tag != "PhraseNotFound" and (t := _text(el))
        )
    return SearchResult(
        count=count,
        retstart=_int(root.findtext("RetStart") or "0", "esearch RetStart"),
        ids=ids,
        webenv=_text(root.find("WebEnv")),
        query_key=_text(root.find("QueryKey")),
        phrases_not_found=not_found,
        errors=other,
    )


def search_page_problem(
    result: SearchResult,
    *,
    retstart: int,
    retmax: int,
    seen: Collection[int] = (),
) -> str | None:
    """What makes one esearch page contradict itself or its search, or None.

    A page must hold exactly the ids its own Count leaves due from RetStart (up
    to ``retmax``), each once, none already on an earlier page (``seen``).
    NCBI's answers always do; a page that does not would publish rows twice or
    lose records without a word.
    """
    if result.retstart != retstart:
        return f"RetStart {result.retstart}, but {retstart} was asked for"
    due = max(0, min(retmax, result.count - retstart))
    if len(result.ids) != due:
        return (
            f"Count {result.count}, RetStart {retstart}, retmax {retmax}: "
            f"{len(result.ids)} ids on the page, {due} due"
        )
    distinct = set(result.ids)
    if len(distinct) != len(result.ids):
        repeated = len(result.ids) - len(distinct)
        return f"{repeated} of the page's {len(result.ids)} ids repeat ids of the same page"
    again = distinct.intersection(seen)
    if again:
        return f"{len(again)} ids already on an earlier page (e.g. PMID {min(again)})"
    return None


def parse_elink_history(root: etree._Element, uid: int) -> LinkHistory:
    """The history entry of a ``cmd=neighbor_history`` answer for one UID.

    A concept without links comes back either with no ``LinkSetDbHistory`` at
    all or with one that carries ``<Info>Empty result</Info>``: both are a
    valid, empty link set.
    """
    linkset = root.find("LinkSet")
    if linkset is None:
        raise ResponseFormatError("elink: no LinkSet in the answer")
    return _linkset_history(linkset, uid)


def parse_elink_histories(root: etree._Element, uids: Sequence[int]) -> dict[int, LinkHistory]:
    """Each UID's history entry of a one-to-one ``neighbor_history`` answer
    (``id=1&id=2``: one LinkSet per UID, each naming its UID in its IdList).

    A UID without its own LinkSet, a LinkSet of several UIDs (their links
    merged: whose is which cannot be told) or of a UID not asked for is refused.
    """
    out: dict[int, LinkHistory] = {}
    # One session holds every UID's set; a LinkSet without its own WebEnv is in it.
    session = _text(root.find("LinkSet/WebEnv"))
    for linkset in root.iterfind("LinkSet"):
        ids = [_text(i) for i in linkset.iterfind("IdList/Id")]
        if len(ids) != 1 or ids[0] is None or not ids[0].isdigit():
            raise ResponseFormatError(
                f"elink: a LinkSet for {len(ids)} ids ({', '.join(map(str, ids))[:80]}) "
                "where one per asked UID was due"
            )
        uid = int(ids[0])
        if uid not in uids or uid in out:
            what = "again" if uid in out else "which was not asked for"
            raise ResponseFormatError(f"elink: a LinkSet for MedGen UID {uid}, {what}")
        out[uid] = _linkset_history(linkset, uid, session)
    absent = [u for u in uids if u not in out]
    if absent:
        raise ResponseFormatError(
            f"elink: no LinkSet for MedGen UID(s) {', '.join(map(str, absent[:10]))}"
        )
    return out


def _linkset_history(linkset: etree._Element, uid: int, session: str | None = None) -> LinkHistory:
    webenv = _text(linkset.find("WebEnv")) or session
    for hist in linkset.iterfind("LinkSetDbHistory"):
        if _text(hist.find("LinkName")) not in (None, "medgen_pubmed"):
            continue
        if hist.find("Info") is not None or _text(hist.find("QueryKey")) is None:
            return LinkHistory(uid, webenv, None)
        if webenv is None:
            raise ResponseFormatError("elink: history entry without a WebEnv")
        return LinkHistory(uid, webenv, _text(hist.find("QueryKey")))
    return LinkHistory(uid, webenv, None)


def parse_einfo(root: etree._Element) -> DbInfo:
    info = root.find("DbInfo")
    if info is None:
        raise ResponseFormatError("einfo: no DbInfo in the answer")
    count = _text(info.find("Count"))
    return DbInfo(
        db=_text(info.find("DbName")) or "",
        db_build=_text(info.find("DbBuild")),
        last_update=_text(info.find("LastUpdate")),
        count=int(count) if count and count.isdigit() else None,
    )


def _int(text: str | None, what: str) -> int:
    if text is None or not text.strip().isdigit():
        raise ResponseFormatError(f"{what}: expected a whole number, got {text!r}")
    return int(text.strip())
