"""A loopback fake of NCBI E-utilities for tests: real HTTP, NCBI's body shapes, injected faults.

The server binds 127.0.0.1 on a free port and answers esearch, esummary, elink, efetch and
einfo from a ``Dataset``. It keeps a history server (WebEnv and query keys) so the
elink -> esearch "#K AND filter" -> efetch flow works as against NCBI, and it can be told
to misbehave (HTTP errors, resets, hangs, slow or broken bodies) one request at a time.

    with FakeEutils(dataset) as fake:
        fake.inject("efetch", Fault.http(429, retry_after=1))
        ...point the client at fake.base_url...
        assert [r.utility for r in fake.requests] == [...]
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.dataset import Dataset
from tests.fakes.ncbi_xml import (
    SearchPage,
    bad_request_body,
    einfo_db_list_body,
    elink_histories_body,
    elink_history_body,
    elink_neighbor_body,
    error_body,
    esearch_body,
    esummary_medgen_body,
    history_link_set,
    missing_summary,
    pubmed_set_body,
)

XML_CONTENT_TYPE = "text/xml; charset=UTF-8"
MEDGEN_PUBMED = "medgen_pubmed"
DEFAULT_RETMAX = 20
MAX_RETMAX = 10000  # NCBI's documented ceiling for one esearch/efetch page
# PubMed esearch serves only the first 9,999 records of any result (retstart <= 9998).
PUBMED_SEARCH_CEILING = 9999
RETSTART_ERROR = (
    "Search Backend failed: Exception:\n'retstart' cannot be larger than 9998. For PubMed, "
    "ESearch can only retrieve the first 9,999 records matching the query. To obtain more "
    "than 9,999 PubMed records, consider using EDirect that contains additional logic to "
    "batch PubMed search results automatically so that an arbitrary number can be retrieved."
)
# The modification date of an article the dataset gives none.
_UNDATED = (1900, 1, 1)
# ("2026/11/29"[mdat] : "3000"[mdat]): a modification-date range, as a search term.
_MDAT_RANGE = re.compile(
    r'^\(?\s*"([\d/]+)"\[mdat\]\s*:\s*"([\d/]+)"\[mdat\]\s*\)?$', re.IGNORECASE
)
_UID_RANGE = re.compile(r"^(.*?)\s+AND\s+(\d+):(\d+)\[uid\]$", re.IGNORECASE | re.DOTALL)

EmptyLinkStyle = Literal["absent", "info"]
FaultKind = Literal[
    "status", "reset", "hang", "trickle", "truncated", "cut_xml", "error", "html", "huge"
]

_PATH = re.compile(r"/entrez/eutils/([A-Za-z]+)\.fcgi")
_START_TAG = re.compile(rb"<[A-Za-z]")

# ------------------------------------------------------------------------- public values


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the server saw it; ``params`` merges query string and form body."""

    time: float  # time.monotonic() when the request line had been read
    method: str
    utility: str  # "esearch", ...; the raw path for anything that is not a utility
    params: dict[str, str]
    path: str


_RATE_LIMIT_BODY = b'{"error":"API rate limit exceeded","count":"4","limit":"3"}\n'
_HTML_ERROR_PAGE = (
    b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
    b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>NCBI - WWW Error 500 Diagnostic'
    b"</title></head><body><h1>Error</h1><p>Server Error: the server encountered an internal"
    b" error and was unable to complete your request.</p></body></html>\n"
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One misbehaviour for one request. Build it with the class methods, not by hand."""

    kind: FaultKind
    status: int = 200
    retry_after: str | None = None
    body: bytes | None = None
    content_type: str | None = None
    seconds: float = 0.0
    interval_ms: float = 0.0
    keep: float = 0.5
    text: str = ""
    then_answer: bool = False
    size: int = 0
    declare_length: bool = True

    @classmethod
    def http(
        cls,
        status: int,
        *,
        retry_after: float | str | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Fault:
        """A bare HTTP status; 429 gets NCBI's JSON body, others a small HTML page by default."""
        after = None if retry_after is None else _header_number(retry_after)
        return cls("status", status=status, retry_after=after, body=body, content_type=content_type)

    @classmethod
    def reset(cls) -> Fault:
        """Read the request, then close with a TCP RST and no answer."""
        return cls("reset")

    @classmethod
    def hang(cls, seconds: float, *, then_answer: bool = False) -> Fault:
        """Read the request and send nothing for ``seconds``; then close (or answer late)."""
        return cls("hang", seconds=seconds, then_answer=then_answer)

    @classmethod
    def trickle(cls, interval_ms: float = 10.0) -> Fault:
        """The normal answer, its body sent one byte every ``interval_ms``."""
        return cls("trickle", interval_ms=interval_ms)

    @classmethod
    def truncated(cls, keep: float = 0.5) -> Fault:
        """Content-Length of the whole body, only ``keep`` of it sent, then the socket closed."""
        return cls("truncated", keep=keep)

    @classmethod
    def cut_xml(cls, keep: float = 0.5) -> Fault:
        """HTTP 200 with an honest Content-Length, the body cut inside an element tag."""
        return cls("cut_xml", keep=keep)

    @classmethod
    def error(cls, text: str) -> Fault:
        """HTTP 200 with ``<ERROR>text</ERROR>`` in the utility's result element."""
        return cls("error", text=text)

    @classmethod
    def html(cls, body: bytes | None = None, *, content_type: str | None = None) -> Fault:
        """HTTP 200 with an HTML error page (text/html unless ``content_type`` says otherwise)."""
        return cls("html", body=body, content_type=content_type)

    @classmethod
    def huge(cls, size: int, *, declare_length: bool = True) -> Fault:
        """The normal answer padded with XML comments to ``size`` bytes, made as it is sent.

        With ``declare_length`` False there is no Content-Length: the body ends when
        the server closes, so only a client that counts while it reads can stop it.
        """
        return cls("huge", size=size, declare_length=declare_length)


def _header_number(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = XML_CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()


class _BadRequestError(Exception):
    """Turns into HTTP 400, as NCBI answers a request it cannot route."""


# ------------------------------------------------------------------------- history server


@dataclass(frozen=True, slots=True)
class _Query:
    db: str
    ids: tuple[int, ...]


class _History:
    """WebEnv -> query key -> stored ids. WebEnvs are deterministic per server instance."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._created = 0
        self._sessions: dict[str, dict[int, _Query]] = {}
        self._lock = threading.Lock()

    def open(self, webenv: str | None) -> str | None:
        """The given WebEnv if known, a new one if none given, None if given but unknown."""
        with self._lock:
            if webenv:
                return webenv if webenv in self._sessions else None
            self._created += 1
            created = f"{self._prefix}_{self._created:08x}"
            self._sessions[created] = {}
            return created

    def store(self, webenv: str, db: str, ids: Iterable[int]) -> int:
        with self._lock:
            queries = self._sessions.setdefault(webenv, {})
            key = len(queries) + 1
            queries[key] = _Query(db, tuple(ids))
            return key

    def lookup(self, webenv: str, key: int) -> _Query | None:
        with self._lock:
            return self._sessions.get(webenv, {}).get(key)

    def forget(self) -> None:
        with self._lock:
            self._sessions.clear()


# ------------------------------------------------------------------------- parameter helpers


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise _BadRequestError(f"{name} must be a non-negative integer")
    return int(raw)


# The separate id= parameters of a request, newline-joined (see _merge_pairs).
ID_GROUPS = "id groups"


def _id_list(params: Mapping[str, str]) -> list[str]:
    return [part.strip() for part in params.get("id", "").split(",") if part.strip()]


def _page(
    params: Mapping[str, str], ids: Sequence[int], ceiling: int | None = None
) -> tuple[int, Sequence[int]]:
    retstart = _int_param(params, "retstart", 0)
    retmax = min(_int_param(params, "retmax", DEFAULT_RETMAX), MAX_RETMAX)
    end = retstart + retmax if ceiling is None else min(retstart + retmax, ceiling)
    return retstart, ids[retstart:end]


def _split_uid_range(term: str) -> tuple[str, tuple[int, int] | None]:
    """'#1 AND f AND 100:200[uid]' -> ('#1 AND f', (100, 200))."""
    if match := _UID_RANGE.match(term.strip()):
        return match.group(1), (int(match.group(2)), int(match.group(3)))
    return term, None


def _date_param(raw: str | None, *, low: bool) -> tuple[int, int, int] | None:
    """'2020', '2020/05' or '2020/05/17' as a bound; missing parts open to the bound's side."""
    if not raw or not raw.strip():
        return None
    parts = [int(p) for p in raw.strip().split("/") if p.isdigit()]
    year = parts[0]
    month = parts[1] if len(parts) > 1 else (1 if low else 12)
    day = parts[2] if len(parts) > 2 else (1 if low else 31)
    return (year, month, day)


def _comparable(key: tuple[int, int, int]) -> tuple[int, int, int]:
    """A PubDate key as a date: a missing month or day counts as the first."""
    year, month, day = key
    return (year, month or 1, day or 1)


def _unwrap(text: str) -> str:
    """Drop whitespace and one pair of parentheses that encloses the whole text."""
    text = text.strip()
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and i < len(text) - 1:
            return text  # "(a) OR (b)": the first parenthesis closes early
    return text[1:-1].strip()


def _normalize(term: str) -> str:
    return " ".join(_unwrap(term).split()).lower()


_HISTORY_FIRST = re.compile(r"\(?#(\d+)\)?(?:\s+AND\s+(.+))?", re.IGNORECASE | re.DOTALL)
_HISTORY_LAST = re.compile(r"(.+?)\s+AND\s+\(?#(\d+)\)?", re.IGNORECASE | re.DOTALL)


def _split_history_term(term: str) -> tuple[int | None, str | None]:
    """'#K AND filter' (either order) -> (K, filter); a plain term -> (None, term)."""
    term = term.strip()
    if match := _HISTORY_FIRST.fullmatch(term):
        return int(match.group(1)), match.group(2)
    if match := _HISTORY_LAST.fullmatch(term):
        return int(match.group(2)), match.group(1)
    return None, term or None


# A MeSH search's field tag -> the StoredArticle field it reads.
_MESH_TAGS = {
    "mh": "descriptors",
    "mh:noexp": "descriptors",
    "mesh terms": "descriptors",
    "mesh terms:noexp": "descriptors",
    "nm": "supplementary",
    "supplementary concept": "supplementary",
}
_WIDENED = re.compile(r"\((.+?)\)\s+AND\s+(.+)", re.IGNORECASE | re.DOTALL)


def _split_mesh_term(term: str) -> tuple[list[str], str] | None:
    """'(#1 OR "C1"[nm]) AND f' -> (['#1', '"C1"[nm]'], 'f'), and '(#1 OR #2) AND f'
    (several history sets ORed); None for any other term."""
    match = _WIDENED.fullmatch(term.strip())
    if match is None:
        return None
    alternatives = [a.strip() for a in re.split(r"\s+OR\s+", match.group(1))]
    mesh = any(_split_field_tag(a)[1] in _MESH_TAGS for a in alternatives)
    if not mesh and not all(re.fullmatch(r"#\d+", a) for a in alternatives):
        return None
    return alternatives, match.group(2)


_FIELD_TAG = re.compile(r"^(.*?)\s*\[([^\]]+)\]$", re.DOTALL)


def _split_field_tag(term: str) -> tuple[str, str | None]:
    """'"C4725027"[ConceptId]' -> ('C4725027', 'conceptid')."""
    text, tag = term.strip(), None
    if match := _FIELD_TAG.match(text):
        text, tag = match.group(1), match.group(2).strip().lower()
    return text.strip().strip('"').strip(), tag


def _by_pub_date(dataset: Dataset) -> Callable[[int], tuple[tuple[int, int, int], int]]:
    def key(pmid: int) -> tuple[tuple[int, int, int], int]:
        article = dataset.articles.get(pmid)
        return (article.pub_date if article else (0, 0, 0), pmid)

    return key


def _sort(dataset: Dataset, ids: Iterable[int], sort: str) -> list[int]:
    # pub_date: newest first, PMID descending on ties; anything else: PMID descending, a
    # stand-in for NCBI's default "most recent" order.
    if sort.replace("+", " ").replace("_", " ").strip().lower() in ("pub date", "pubdate"):
        return sorted(set(ids), key=_by_pub_date(dataset), reverse=True)
    return sorted(set(ids), reverse=True)


# ------------------------------------------------------------------------- the utilities


class _Responder:
    """Turns (utility, params) into a Reply. Holds no HTTP concerns, only NCBI semantics."""

    def __init__(
        self, dataset: Dataset, history: _History, empty_link_style: EmptyLinkStyle
    ) -> None:
        self.dataset = dataset
        self.history = history
        self.empty_link_style = empty_link_style
        self.withhold: set[int] = set()
        self.liar = _Liar()

    def answer(self, utility: str, params: Mapping[str, str]) -> Reply:
        handlers: dict[str, Callable[[Mapping[str, str]], bytes]] = {
            "esearch": self._esearch,
            "esummary": self._esummary,
            "elink": self._elink,
            "efetch": self._efetch,
            "einfo": self._einfo,
        }
        try:
            handler = handlers.get(utility)
            if handler is None:
                raise _BadRequestError(f"Unknown utility: {utility}")
            return Reply(200, handler(params))
        except _BadRequestError as exc:
            return Reply(400, bad_request_body(str(exc)))

    def _require_db(self, params: Mapping[str, str], name: str, allowed: Sequence[str]) -> str:
        db = params.get(name, "").strip().lower()
        if db not in allowed:
            raise _BadRequestError(f"Invalid {name} name specified: {db}")
        return db

    # -- esearch

    def _esearch(self, params: Mapping[str, str]) -> bytes:
        db = self._require_db(params, "db", ("medgen", "pubmed"))
        if db == "medgen":
            return self._esearch_medgen(params)
        return self._esearch_pubmed(params)

    def _match_concepts(self, term: str) -> list[str]:
        # "A OR B OR ...": the union, in the dataset's order (as NCBI sorts by UID, roughly).
        alternatives = term.split(" OR ")
        if len(alternatives) > 1:
            hits = {u for alt in alternatives for u in self._match_one(alt.strip())}
            return [uid for uid in self.dataset.concepts if uid in hits]
        return self._match_one(term)

    def _match_one(self, term: str) -> list[str]:
        text, tag = _split_field_tag(term)
        wanted = text.lower()
        if tag == "uid":
            return [uid for uid in self.dataset.concepts if uid == text]
        return [
            uid
            for uid, c in self.dataset.concepts.items()
            if wanted in (c.concept_id.lower(), c.title.lower()) or (tag is None and uid == text)
        ]

    def _esearch_medgen(self, params: Mapping[str, str]) -> bytes:
        term = params.get("term", "")
        uids = self._match_concepts(term)
        text, tag = _split_field_tag(term)
        translation = term.strip() if tag or " OR " in term else f"{text}[All Fields]"
        page = self._search_page(params, "medgen", [int(u) for u in uids], translation)
        if not uids:
            page = _with_not_found(page, text)
        return esearch_body(page)

    def _esearch_pubmed(self, params: Mapping[str, str]) -> bytes:
        if _int_param(params, "retstart", 0) >= PUBMED_SEARCH_CEILING:
            return error_body("esearch", RETSTART_ERROR)
        term, uid_range = _split_uid_range(params.get("term", ""))
        if (widened := _split_mesh_term(term)) is not None:
            return self._esearch_pubmed_mesh(params, *widened, uid_range)
        key, filter_term = _split_history_term(term)
        if key is None:
            return self._esearch_pubmed_plain(params, filter_term or "")
        query = self.history.lookup(params.get("WebEnv", ""), key)
        if query is None or query.db != "pubmed":
            return error_body("esearch", f"Unable to obtain query #{key}")
        ids = self._narrow(params, query.ids, uid_range)
        if filter_term is None:
            return esearch_body(self._search_page(params, "pubmed", ids, f"#{key}"))
        matched = self._filter(filter_term)
        if matched is None:
            # NCBI drops a phrase it cannot find and answers for the rest of the query.
            page = self._search_page(params, "pubmed", ids, f"#{key}")
            return esearch_body(_with_not_found(page, filter_term))
        ids = [p for p in ids if p in matched]
        translation = f"#{key} AND {filter_term.strip()}"
        return esearch_body(self._search_page(params, "pubmed", ids, translation))

    def _esearch_pubmed_mesh(
        self,
        params: Mapping[str, str],
        alternatives: list[str],
        filter_term: str,
        uid_range: tuple[int, int] | None,
    ) -> bytes:
        """``(#K OR "D…"[mh:noexp] OR "C…"[nm]) AND filter``: the union of the history
        set and the articles indexed with those MeSH ids (exactly: no tree to explode),
        then filtered as any history search."""
        union: set[int] = set()
        for alternative in alternatives:
            if match := re.fullmatch(r"#(\d+)", alternative):
                query = self.history.lookup(params.get("WebEnv", ""), int(match.group(1)))
                if query is None or query.db != "pubmed":
                    return error_body("esearch", f"Unable to obtain query {alternative}")
                union.update(query.ids)
                continue
            ui, tag = _split_field_tag(alternative)
            field = _MESH_TAGS.get(tag or "")
            if field is None:
                raise _BadRequestError(f"not a MeSH term: {alternative}")
            union.update(
                pmid for pmid, a in self.dataset.articles.items() if ui in getattr(a, field)
            )
        matched = self._filter(filter_term)
        translation = f"({' OR '.join(alternatives)}) AND {filter_term.strip()}"
        ids = self._narrow(params, sorted(union), uid_range)
        if matched is None:
            page = self._search_page(params, "pubmed", ids, translation)
            return esearch_body(_with_not_found(page, filter_term))
        ids = [p for p in ids if p in matched]
        return esearch_body(self._search_page(params, "pubmed", ids, translation))

    def _narrow(
        self, params: Mapping[str, str], ids: Iterable[int], uid_range: tuple[int, int] | None
    ) -> list[int]:
        """mindate/maxdate (datetype=pdat, on the PubDate) and a lo:hi[uid] clause."""
        low = _date_param(params.get("mindate"), low=True)
        high = _date_param(params.get("maxdate"), low=False)
        out = []
        for pmid in ids:
            article = self.dataset.articles.get(pmid)
            when = _comparable(article.pub_date if article else (0, 0, 0))
            if (low is not None and when < low) or (high is not None and when > high):
                continue
            if uid_range is not None and not uid_range[0] <= pmid <= uid_range[1]:
                continue
            out.append(pmid)
        return out

    def _esearch_pubmed_plain(self, params: Mapping[str, str], term: str) -> bytes:
        matched = self._filter(term)
        page = self._search_page(params, "pubmed", sorted(matched or ()), term.strip())
        return esearch_body(page if matched is not None else _with_not_found(page, term))

    def _filter(self, term: str) -> frozenset[int] | None:
        if match := _MDAT_RANGE.match(term.strip()):
            return self._modified_between(match.group(1), match.group(2))
        wanted = _normalize(term)
        for name, pmids in self.dataset.filters.items():
            if _normalize(name) == wanted:
                return pmids
        return None

    def _modified_between(self, low: str, high: str) -> frozenset[int]:
        """The articles whose modification date (``Dataset.modified``) is in the range."""
        start, end = _date_param(low, low=True), _date_param(high, low=False)
        assert start is not None
        assert end is not None
        modified = self.dataset.modified
        return frozenset(
            p for p in self.dataset.articles if start <= modified.get(p, _UNDATED) <= end
        )

    def _search_page(
        self, params: Mapping[str, str], db: str, ids: Iterable[int], translation: str
    ) -> SearchPage:
        ordered = _sort(self.dataset, ids, params.get("sort", "")) if db == "pubmed" else list(ids)
        ceiling = PUBMED_SEARCH_CEILING if db == "pubmed" else None
        retstart, page_ids = _page(params, ordered, ceiling)
        page = SearchPage(len(ordered), retstart, page_ids, translation)
        if params.get("usehistory", "").strip().lower() != "y":
            return page
        # An unknown WebEnv with usehistory=y: NCBI starts a fresh one rather than failing.
        webenv = self.history.open(params.get("WebEnv")) or self.history.open(None)
        assert webenv is not None  # open(None) always creates one
        query_key = self.history.store(webenv, db, ordered)
        page = SearchPage(page.count, retstart, page_ids, translation, query_key, webenv)
        return self.liar.esearch(page) if db == "pubmed" else page

    # -- esummary

    def _esummary(self, params: Mapping[str, str]) -> bytes:
        self._require_db(params, "db", ("medgen",))
        uids = _id_list(params)
        if not uids:
            return error_body("esummary", "Empty id list - nothing todo")
        concepts = self.dataset.concepts
        summaries = [
            concepts[uid].document_summary() if uid in concepts else missing_summary(uid)
            for uid in uids
        ]
        return esummary_medgen_body(self.dataset.db_build, summaries)

    # -- elink

    def _elink(self, params: Mapping[str, str]) -> bytes:
        self._require_db(params, "dbfrom", ("medgen",))
        self._require_db(params, "db", ("pubmed",))
        uids = _id_list(params)
        if not uids:
            return error_body("elink", "Empty id list - nothing todo")
        link_name = params.get("linkname", "").strip() or MEDGEN_PUBMED
        links = self._links(uids) if link_name == MEDGEN_PUBMED else []
        cmd = params.get("cmd", "").strip() or "neighbor"
        if cmd == "neighbor":
            return elink_neighbor_body("medgen", uids, "pubmed", link_name, links)
        if cmd == "neighbor_history" and ID_GROUPS in params:
            return self._elink_histories(params, params[ID_GROUPS].split("\n"), link_name)
        if cmd == "neighbor_history":
            return self._elink_history(params, uids, link_name, links)
        raise _BadRequestError(f"Unsupported cmd: {cmd}")

    def _links(self, uids: Sequence[str]) -> list[int]:
        # Several ids in one id= parameter: NCBI merges their links into one set.
        merged = (p for uid in uids for p in self.dataset.links.get(uid, ()))
        return list(dict.fromkeys(merged))

    def _elink_history(
        self, params: Mapping[str, str], uids: Sequence[str], link_name: str, links: Sequence[int]
    ) -> bytes:
        webenv = self.history.open(params.get("WebEnv"))
        if webenv is None:
            return error_body("elink", f"WebEnv {params.get('WebEnv', '')} is not valid")
        if links:
            key = self.history.store(webenv, "pubmed", links)
            return elink_history_body("medgen", uids, webenv, ("pubmed", link_name, key))
        if self.empty_link_style == "absent":
            return elink_history_body("medgen", uids, webenv, None)
        key = self.history.store(webenv, "pubmed", ())
        link = ("pubmed", link_name, key)
        return elink_history_body("medgen", uids, webenv, link, info="Empty result")

    def _elink_histories(
        self, params: Mapping[str, str], groups: Sequence[str], link_name: str
    ) -> bytes:
        """id=1&id=2: each id its own link set and query key, in one session."""
        webenv = self.history.open(params.get("WebEnv"))
        if webenv is None:
            return error_body("elink", f"WebEnv {params.get('WebEnv', '')} is not valid")
        sets = []
        for group in groups:
            uids = [u.strip() for u in group.split(",") if u.strip()]
            links = self._links(uids) if link_name == MEDGEN_PUBMED else []
            if links:
                key = self.history.store(webenv, "pubmed", links)
                sets.append((group, history_link_set(("pubmed", link_name, key))))
            elif self.empty_link_style == "absent":
                sets.append((group, history_link_set(None)))
            else:
                key = self.history.store(webenv, "pubmed", ())
                link = ("pubmed", link_name, key)
                sets.append((group, history_link_set(link, info="Empty result")))
        return elink_histories_body("medgen", webenv, sets)

    # -- efetch

    def _efetch(self, params: Mapping[str, str]) -> bytes:
        self._require_db(params, "db", ("pubmed",))
        retmode = params.get("retmode", "xml").strip().lower() or "xml"
        if retmode != "xml":
            raise _BadRequestError(f"Unsupported retmode: {retmode}")
        pmids = self._efetch_ids(params)
        if pmids is None:
            return error_body("efetch", self._efetch_failure(params))
        articles = self.dataset.articles
        fragments = [articles[p].xml for p in pmids if p in articles and p not in self.withhold]
        return pubmed_set_body(self.liar.efetch(fragments))

    def _efetch_ids(self, params: Mapping[str, str]) -> Sequence[int] | None:
        ids = _id_list(params)
        if ids:
            return [int(i) for i in ids if i.isdigit()]
        key = _int_param(params, "query_key", 0)
        query = self.history.lookup(params.get("WebEnv", ""), key)
        if query is None or query.db != "pubmed":
            return None
        return _page(params, query.ids)[1]

    def _efetch_failure(self, params: Mapping[str, str]) -> str:
        if "query_key" not in params and "WebEnv" not in params:
            return "Empty id list - nothing todo"
        return (
            f"Cannot retrieve history data. query_key: {params.get('query_key', '')}, "
            f"WebEnv: {params.get('WebEnv', '')}"
        )

    # -- einfo

    def _einfo(self, params: Mapping[str, str]) -> bytes:
        db = params.get("db", "").strip().lower()
        if not db:
            return einfo_db_list_body(sorted(self.dataset.einfo))
        body = self.dataset.einfo.get(db)
        if body is None:
            return error_body("einfo", f"Can not retrieve DbInfo for db={db}")
        return body


def _with_not_found(page: SearchPage, phrase: str) -> SearchPage:
    return SearchPage(
        page.count,
        page.retstart,
        page.ids,
        page.query_translation,
        page.query_key,
        page.webenv,
        (*page.not_found, phrase.strip()),
    )


# ------------------------------------------------------------------------- a server that lies
# Hostile modes: answers that are well-formed XML of the right shape, with HTTP 200, and
# wrong. Unlike a Fault (one request, a broken wire), a lie holds for every matching answer
# until told ``times`` times. esearch lies touch db=pubmed history searches only.

LieKind = Literal["repeat_ids", "high_count", "short_pages", "duplicate_pmid", "unasked_pmid"]
ESEARCH_LIES: frozenset[str] = frozenset({"repeat_ids", "high_count", "short_pages"})
EFETCH_LIES: frozenset[str] = frozenset({"duplicate_pmid", "unasked_pmid"})
# The PMID an "unasked_pmid" answer adds: no test dataset holds it, no request asks for it.
UNASKED_PMID = 99_999_999
_FIRST_PMID = re.compile(r'<PMID Version="(\d+)">\d+</PMID>')
_ARTICLE_TITLE = re.compile(r"<ArticleTitle>.*?</ArticleTitle>", re.DOTALL)


@dataclass
class _Lie:
    kind: LieKind
    times: int | None  # None: every matching answer
    told: int = 0


class _Liar:
    """Rewrites true answers into lies.

    repeat_ids      an esearch page holds as many ids as due, its first half twice
    high_count      esearch Count a third higher than the ids the search pages out
    short_pages     an esearch page one id short of what is due (the next page goes on)
    duplicate_pmid  efetch answers its first PMID twice, the second copy with another title
    unasked_pmid    efetch adds a record for UNASKED_PMID
    """

    def __init__(self) -> None:
        self._lies: dict[str, _Lie] = {}
        self._lock = threading.Lock()

    def tell(self, kind: LieKind, times: int | None) -> None:
        with self._lock:
            self._lies[kind] = _Lie(kind, times)

    def told(self, kind: str) -> int:
        with self._lock:
            lie = self._lies.get(kind)
            return lie.told if lie else 0

    def _take(self, kinds: frozenset[str]) -> list[LieKind]:
        with self._lock:
            now: list[LieKind] = []
            for lie in self._lies.values():
                if lie.kind in kinds and (lie.times is None or lie.told < lie.times):
                    lie.told += 1
                    now.append(lie.kind)
            return now

    def esearch(self, page: SearchPage) -> SearchPage:
        if not page.ids and page.count == 0:
            return page  # nothing to lie about
        count, ids = page.count, list(page.ids)
        for kind in self._take(ESEARCH_LIES):
            if kind == "repeat_ids" and len(ids) >= 2:
                half = ids[: (len(ids) + 1) // 2]
                ids = (half * 2)[: len(ids)]
            elif kind == "high_count":
                count += max(1, count // 3)
            elif kind == "short_pages" and ids:
                ids = ids[:-1]
        return SearchPage(
            count, page.retstart, ids, page.query_translation, page.query_key, page.webenv
        )

    def efetch(self, fragments: list[str]) -> list[str]:
        if not fragments:
            return fragments
        out = list(fragments)
        for kind in self._take(EFETCH_LIES):
            if kind == "duplicate_pmid":
                other = _ARTICLE_TITLE.sub(
                    "<ArticleTitle>A different title.</ArticleTitle>", fragments[0], count=1
                )
                out.append(other)
            elif kind == "unasked_pmid":
                out.append(
                    _FIRST_PMID.sub(rf'<PMID Version="\1">{UNASKED_PMID}</PMID>', fragments[0], 1)
                )
        return out


# ------------------------------------------------------------------------- end of the lies


# ------------------------------------------------------------------------- faults on the wire


def _default_status_body(status: int) -> tuple[bytes, str]:
    if status == 429:
        return _RATE_LIMIT_BODY, "application/json"
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    title = f"<head><title>{status} {phrase}</title></head>"
    page = f"<html>{title}<body><h1>{phrase}</h1></body></html>\n"
    return page.encode(), "text/html; charset=UTF-8"


def _status_reply(fault: Fault) -> Reply:
    default_body, default_type = _default_status_body(fault.status)
    headers = (("Retry-After", fault.retry_after),) if fault.retry_after is not None else ()
    body = default_body if fault.body is None else fault.body
    return Reply(fault.status, body, fault.content_type or default_type, headers)


def _cut_inside_tag(body: bytes, keep: float) -> bytes:
    """Cut two bytes into the first start tag past ``keep`` of the body: '...<Ar'."""
    match = _START_TAG.search(body, int(len(body) * keep))
    if match is None:
        return body[: max(1, int(len(body) * keep))]
    return body[: match.start() + 3]


def _comment(size: int) -> bytes:
    """An XML comment of exactly ``size`` (at least 8) bytes."""
    return b"<!--" + b"x" * (size - 8) + b"-->\n"


# What a huge body is made of, between the declaration and the root: 64 KiB comments.
_COMMENT_BLOCK = _comment(65536)


def _split_after_declaration(body: bytes) -> tuple[bytes, bytes]:
    """(the XML declaration line, the rest): comments may follow the declaration only."""
    if body.startswith(b"<?xml"):
        end = body.index(b"?>") + 2
        return body[:end], body[end:]
    return b"", body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A client that connects and never finishes its request must not pin a thread forever.
    timeout = 10.0
    server: _Server

    def do_GET(self) -> None:
        self._serve(self._query_params())

    def do_POST(self) -> None:
        self._serve({**self._query_params(), **self._form_params()})

    def log_message(self, format: str, *args: object) -> None:
        """Silence per-request logging: the fake's record is ``FakeEutils.requests``."""

    def _query_params(self) -> dict[str, str]:
        return _merge_pairs(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))

    def _form_params(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
        return _merge_pairs(parse_qsl(body, keep_blank_values=True))

    def _serve(self, params: dict[str, str]) -> None:
        fake = self.server.fake
        match = _PATH.fullmatch(urlsplit(self.path).path)
        utility = match.group(1).lower() if match else urlsplit(self.path).path
        fake._record(RecordedRequest(time.monotonic(), self.command, utility, params, self.path))
        fault = fake._take_fault(utility)
        try:
            self._respond(fault, utility, params)
        except OSError:
            # The client went away mid-answer (its timeout, or a test closing early).
            self.close_connection = True

    def _respond(self, fault: Fault | None, utility: str, params: dict[str, str]) -> None:
        fake = self.server.fake
        if fault is None:
            return self._send(fake._answer(utility, params))
        if fault.kind == "reset":
            return self._reset()
        if fault.kind == "hang":
            return self._hang(fault, lambda: fake._answer(utility, params))
        if fault.kind == "status":
            return self._send(_status_reply(fault))
        if fault.kind == "error":
            return self._send(Reply(200, error_body(utility, fault.text)))
        if fault.kind == "html":
            content_type = fault.content_type or "text/html; charset=UTF-8"
            return self._send(Reply(200, fault.body or _HTML_ERROR_PAGE, content_type))
        return self._send_damaged(fault, fake._answer(utility, params))

    def _send_damaged(self, fault: Fault, reply: Reply) -> None:
        if fault.kind == "cut_xml":
            return self._send(Reply(200, _cut_inside_tag(reply.body, fault.keep)))
        if fault.kind == "truncated":
            self._send_headers(reply, len(reply.body), close=True)
            self.wfile.write(reply.body[: int(len(reply.body) * fault.keep)])
            return None
        if fault.kind == "trickle":
            return self._trickle(reply, fault.interval_ms / 1000)
        if fault.kind == "huge":
            return self._send_huge(fault, reply)
        raise AssertionError(f"unhandled fault kind {fault.kind}")

    # -- huge bodies: generated while they are sent, so gigabytes cost the fake no memory

    def _send_huge(self, fault: Fault, reply: Reply) -> None:
        head, rest = _split_after_declaration(reply.body)
        blocks, left = divmod(max(0, fault.size - len(reply.body)), len(_COMMENT_BLOCK))
        last = _comment(left) if left >= 8 else b""  # what makes the size exact
        total = len(reply.body) + blocks * len(_COMMENT_BLOCK) + len(last)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        if fault.declare_length:
            self.send_header("Content-Length", str(total))
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        sent = self.server.fake.huge_sent
        sent.append(0)
        self.wfile.write(head)
        stopping = self.server.fake._stopping
        # Counted before each write: a client that has read the whole body must find it
        # counted (the last write can return after the client is done reading). A write
        # the client cut short still counts its block: at most one block too many.
        for _ in range(blocks):
            if stopping.is_set():
                return
            sent[-1] += len(_COMMENT_BLOCK)
            self.wfile.write(_COMMENT_BLOCK)
        sent[-1] += len(last)
        self.wfile.write(last + rest)

    # -- end of huge bodies

    def _send_headers(self, reply: Reply, length: int, *, close: bool = False) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(length))
        for name, value in reply.headers:
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def _send(self, reply: Reply) -> None:
        self._send_headers(reply, len(reply.body))
        self.wfile.write(reply.body)

    def _trickle(self, reply: Reply, interval: float) -> None:
        self._send_headers(reply, len(reply.body), close=True)
        stopping = self.server.fake._stopping
        for i in range(len(reply.body)):
            self.wfile.write(reply.body[i : i + 1])
            if stopping.wait(interval):
                return

    def _hang(self, fault: Fault, answer: Callable[[], Reply]) -> None:
        # Waiting on the stop event, not sleeping: FakeEutils.stop() must not wait out a hang.
        stopped = self.server.fake._stopping.wait(fault.seconds)
        if fault.then_answer and not stopped:
            return self._send(answer())
        return self._reset()

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN. The socket only
        # really closes once rfile (a makefile() holding a reference to it) is closed too;
        # wfile writes through the socket object and may stay open for http.server's flush().
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()


def _merge_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    # A repeated parameter becomes one comma-joined value, NCBI's list syntax; a
    # repeated id (id=1&id=2) is also kept apart, for elink's one link per id.
    merged: dict[str, str] = {}
    ids: list[str] = []
    for name, value in pairs:
        merged[name] = f"{merged[name]},{value}" if name in merged else value
        if name == "id":
            ids.append(value)
    if len(ids) > 1:
        merged[ID_GROUPS] = "\n".join(ids)
    return merged


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, fake: FakeEutils) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


# ------------------------------------------------------------------------- the fake


@dataclass
class _FaultQueue:
    """One FIFO over all injections; an entry for None matches any utility."""

    entries: list[tuple[str | None, Fault]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, utility: str | None, fault: Fault) -> None:
        with self.lock:
            self.entries.append((utility, fault))

    def take(self, utility: str) -> Fault | None:
        with self.lock:
            for i, (wanted, fault) in enumerate(self.entries):
                if wanted is None or wanted == utility:
                    del self.entries[i]
                    return fault
            return None


class FakeEutils:
    """The fake server. Use as a context manager, or call start() and stop()."""

    def __init__(
        self,
        dataset: Dataset,
        *,
        webenv_prefix: str = "MCID_FAKE",
        empty_link_style: EmptyLinkStyle = "absent",
    ) -> None:
        self.requests: list[RecordedRequest] = []
        # Comment bytes each huge-body fault got onto the wire before the client stopped it.
        self.huge_sent: list[int] = []
        self._history = _History(webenv_prefix)
        self._responder = _Responder(dataset, self._history, empty_link_style)
        self._faults = _FaultQueue()
        self._requests_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FakeEutils:
        if self._server is not None:
            raise RuntimeError("FakeEutils already started")
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()  # wakes hanging and trickling handlers first
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeEutils:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what tests use

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeEutils is not running")
        host, port = self._server.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else host
        return f"http://{host_text}:{port}/entrez/eutils/"

    @property
    def dataset(self) -> Dataset:
        return self._responder.dataset

    @property
    def withhold(self) -> set[int]:
        """PMIDs efetch leaves out even when asked for ("fewer records than asked")."""
        return self._responder.withhold

    @withhold.setter
    def withhold(self, pmids: Iterable[int]) -> None:
        self._responder.withhold = set(pmids)

    @property
    def empty_link_style(self) -> EmptyLinkStyle:
        return self._responder.empty_link_style

    @empty_link_style.setter
    def empty_link_style(self, style: EmptyLinkStyle) -> None:
        self._responder.empty_link_style = style

    def inject(self, utility: str | None, fault: Fault) -> None:
        """Queue a fault for the next request to ``utility`` (None: the next request at all)."""
        self._faults.push(utility, fault)

    def lie(self, kind: LieKind, *, times: int | None = None) -> None:
        """Answer with ``kind`` of lie from now on (``times``: only that many answers)."""
        self._responder.liar.tell(kind, times)

    def lies_told(self, kind: LieKind) -> int:
        return self._responder.liar.told(kind)

    def forget_sessions(self) -> None:
        """Simulate history-server expiry: every WebEnv issued so far becomes unknown."""
        self._history.forget()

    def requests_for(self, utility: str) -> list[RecordedRequest]:
        with self._requests_lock:
            return [r for r in self.requests if r.utility == utility]

    # -- called from handler threads

    def _record(self, request: RecordedRequest) -> None:
        with self._requests_lock:
            self.requests.append(request)

    def _take_fault(self, utility: str) -> Fault | None:
        return self._faults.take(utility)

    def _answer(self, utility: str, params: Mapping[str, str]) -> Reply:
        try:
            return self._responder.answer(utility, params)
        except Exception as exc:
            # A bug in the fake must fail the test loudly, not look like a network fault.
            return Reply(500, bad_request_body(f"fake E-utilities bug: {exc!r}"))
