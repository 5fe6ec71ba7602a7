"""EutilsClient: where every request is answered, from NCBI or from the raw store.

One call path for all five utilities:

    rebuild?      -> the very answer the snapshot's manifest names, or OfflineMissError
    offline?      -> the raw store's latest answer, or OfflineMissError
    resumed run?  -> the answer this run already stored, no request sent
    otherwise     -> limiter, gateway (Bio.Entrez), vetting, retry policy,
                     then the raw store, tagged with this run's token

Only complete, vetted bodies are stored. The client records which stored
responses the run used, for the snapshot manifest.

History sessions (WebEnv) expire on NCBI's side, and a resumed run reuses an
old one: when a search answers that its query is gone, the elink is redone
live and the category searched again with the new session. Never is a lost
session read as an empty or unfiltered result.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from lxml import etree

from pipeline.errors import (
    EutilsError,
    InconsistentAnswerError,
    NcbiError,
    OfflineMissError,
    QueryTermError,
    RawStoreCorruptError,
    ResponseFormatError,
    RetriesExhaustedError,
)
from pipeline.extract.ratelimit import Limiter
from pipeline.extract.rawstore import RawStore, RunJournal, StoredResponse
from pipeline.extract.request import EutilsRequest
from pipeline.extract.responses import (
    check_body,
    parse_einfo,
    parse_elink_histories,
    parse_elink_history,
    parse_esearch,
    search_page_problem,
)
from pipeline.extract.retry import RetryPolicy, run_with_retry
from pipeline.extract.slices import CEILING, Slice, pages
from pipeline.models import DbInfo, LinkHistory, SearchResult

log = logging.getLogger(__name__)

# How often one category may rebuild a lost history session before giving up.
MAX_RELINKS = 2
# <ERROR> texts that mean the history server no longer knows the session.
HISTORY_LOST = re.compile(
    r"unable to obtain query|cannot retrieve history|webenv .*(not valid|invalid|expired)", re.I
)


# Says what is inconsistent in an answer's root, or None.
Vet = Callable[[etree._Element], "str | None"]


class Gateway(Protocol):
    def call(self, request: EutilsRequest) -> bytes: ...


@dataclass
class ClientStats:
    requests: int = 0  # logical requests answered, however (store or NCBI)
    sent: int = 0  # HTTP attempts, retries included
    retried: int = 0
    from_store: int = 0


@dataclass(frozen=True, slots=True)
class CategorySearch:
    count: int
    pmids: tuple[int, ...]
    # How many slices the search was cut into (1: it fitted under esearch's ceiling).
    slices: int = 1


@dataclass
class EutilsClient:
    store: RawStore
    gateway: Gateway | None
    limiter: Limiter | None
    policy: RetryPolicy
    journal: RunJournal | None = None
    sleep: Callable[[float], None] | None = None
    stats: ClientStats = field(default_factory=ClientStats)
    used: dict[str, StoredResponse] = field(default_factory=dict)
    run_token: str | None = None
    resuming: bool = False
    # False for --dry-run: answers are used but nothing is written.
    record: bool = True
    # Notes for the manifest (e.g. a corrupt raw-store entry fetched again), each once.
    warnings: dict[str, None] = field(default_factory=dict)
    # Offline only: request key -> sha256 of the answer to use (a rebuild's manifest).
    pinned: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if self.journal is not None:
            self.run_token, self.resuming = self.journal.start()
            if self.resuming:
                log.info("resuming an interrupted run: stored answers are reused")

    @property
    def offline(self) -> bool:
        return self.gateway is None

    # ------------------------------------------------------------ one request

    def fetch(
        self, request: EutilsRequest, *, refresh: bool = False, vet: Vet | None = None
    ) -> tuple[bytes, etree._Element]:
        """The answer to ``request``; ``refresh`` never reuses a stored one (live only).

        ``vet`` says what is inconsistent in an answer (None: nothing): such an
        answer is asked for again under the retry policy, never stored, and
        refused when the policy gives up (or at once, from the store offline).
        """
        stored = None if refresh and not self.offline else self._from_store(request, vet)
        # Counted past the store: an offline miss raises first and is no request.
        self.stats.requests += 1
        if stored is not None:
            body, root, meta = stored
            self.stats.from_store += 1
            self.used[meta.key] = meta
            return body, root
        body, root = self._from_ncbi(request, vet)
        if self.record:
            meta = self.store.put(request, body, run=self.run_token)
            self.used[meta.key] = meta
        return body, root

    def _from_store(
        self, request: EutilsRequest, vet: Vet | None
    ) -> tuple[bytes, etree._Element, StoredResponse] | None:
        if not self.offline and not self.resuming:
            return None
        try:
            hit = self._stored(request)
        except RawStoreCorruptError as exc:
            if self.offline:
                raise OfflineMissError(
                    f"--offline: {exc}; a run without --offline fetches it again"
                ) from exc
            self._note(f"{exc}; fetched again")
            return None
        if hit is None:
            if self.offline:
                raise OfflineMissError(self._missing(request))
            return None
        body, meta = hit
        root = check_body(request.utility, body)
        problem = vet(root) if vet is not None else None
        if problem is None:
            return body, root, meta
        if self.offline:
            raise ResponseFormatError(
                f"{request.utility}: the stored answer is inconsistent: {problem}",
                request=request.describe(),
            )
        log.warning("the stored answer is inconsistent (%s); asking again", problem)
        return None

    def _stored(self, request: EutilsRequest) -> tuple[bytes, StoredResponse] | None:
        if self.pinned is not None:
            digest = self.pinned.get(request.key)
            return None if digest is None else self.store.get(request, sha256=digest)
        if self.offline:
            return self.store.get(request)
        return self.store.get(request, run=self.run_token or "")

    def _missing(self, request: EutilsRequest) -> str:
        where = f"the raw store {self.store.root}"
        if self.pinned is None:
            return f"--offline: {where} holds no answer for {request.describe()}"
        digest = self.pinned.get(request.key)
        if digest is None:
            return f"the snapshot's manifest names no answer for {request.describe()}"
        return f"{where} no longer holds answer {digest[:12]}... to {request.describe()}"

    def _note(self, text: str) -> None:
        """A warning for the log and the manifest."""
        if text not in self.warnings:
            self.warnings[text] = None
            log.warning("%s", text)

    def _from_ncbi(self, request: EutilsRequest, vet: Vet | None) -> tuple[bytes, etree._Element]:
        gateway, limiter = self.gateway, self.limiter
        if gateway is None or limiter is None:
            raise RuntimeError("an offline client cannot send requests")
        describe = request.describe()

        attempts = 0

        def attempt() -> tuple[bytes, etree._Element]:
            nonlocal attempts
            attempts += 1
            limiter.acquire()
            self.stats.sent += 1
            started = time.monotonic()
            fields = {"utility": request.utility, "attempt": attempts, "request": describe}
            try:
                body = gateway.call(request)
                root = check_body(request.utility, body)
                problem = vet(root) if vet is not None else None
                if problem is not None:
                    raise InconsistentAnswerError(f"{request.utility}: {problem}")
            except NcbiError as exc:
                if exc.request is None:
                    exc.request = describe
                elapsed = round(time.monotonic() - started, 3)
                log.info(
                    "%s failed",
                    request.utility,
                    extra={**fields, "status": type(exc).__name__, "elapsed": elapsed},
                )
                raise
            elapsed = round(time.monotonic() - started, 3)
            log.info("%s ok", request.utility, extra={**fields, "status": "ok", "elapsed": elapsed})
            return body, root

        def on_retry(attempt_no: int, error: BaseException, wait: float) -> None:
            self.stats.retried += 1
            log.warning("attempt %d failed (%s); retrying in %.1fs", attempt_no, error, wait)

        def on_give_up(attempt_no: int, error: BaseException) -> None:
            log.warning("attempt %d failed (%s); giving up", attempt_no, error)

        try:
            return run_with_retry(
                attempt,
                self.policy,
                describe=describe,
                on_retry=on_retry,
                on_give_up=on_give_up,
                sleep=self.sleep,
            )
        except RetriesExhaustedError as exc:
            lie = exc.__cause__
            if not isinstance(lie, InconsistentAnswerError):
                raise
            # Asking again did not cure it: the answer is wrong, not late.
            raise ResponseFormatError(
                f"{lie.detail} (on each of {attempts} attempts; refused)", request=describe
            ) from exc

    # ------------------------------------------------------------ operations

    def search_medgen(self, term: str, *, retmax: int = 20) -> SearchResult:
        request = EutilsRequest.make("esearch", db="medgen", term=term, retmax=retmax)
        return parse_esearch(self.fetch(request)[1])

    def summarize_medgen(self, uids: Sequence[int]) -> bytes:
        ids = ",".join(str(u) for u in uids)
        request = EutilsRequest.make("esummary", db="medgen", id=ids, version="2.0")
        return self.fetch(request)[0]

    def link_pubmed(self, uid: int, *, refresh: bool = False) -> LinkHistory:
        request = _elink_request(uid)
        return parse_elink_history(self.fetch(request, refresh=refresh)[1], uid)

    def link_pubmed_many(self, uids: Sequence[int], *, batch: int) -> dict[int, LinkHistory]:
        """Each UID's linked set, ``batch`` UIDs to one elink (``id=1&id=2``: one
        query key per UID in one session), where one elink per UID costs a request each.

        Offline, a store recorded one elink per UID (as earlier versions did)
        still answers: a batch it lacks is asked UID by UID.
        """
        out: dict[int, LinkHistory] = {}
        for start in range(0, len(uids), batch):
            chunk = list(uids[start : start + batch])
            if len(chunk) == 1:
                out[chunk[0]] = self.link_pubmed(chunk[0])
                continue
            try:
                root = self.fetch(_elink_request(chunk))[1]
            except OfflineMissError:
                if self.pinned is not None:
                    raise
                out.update({uid: self.link_pubmed(uid) for uid in chunk})
                continue
            out.update(parse_elink_histories(root, chunk))
            if self.resuming:
                out.update(self._relinked(chunk))
        return out

    def _relinked(self, uids: Sequence[int]) -> dict[int, LinkHistory]:
        """A resumed run's own relinks (a lost session, redone UID by UID): newer
        than the batch's sessions, and what its stored searches were made with."""
        out: dict[int, LinkHistory] = {}
        for uid in uids:
            stored = self._from_store(_elink_request(uid), None)
            if stored is not None:
                _, root, meta = stored
                self.used[meta.key] = meta
                out[uid] = parse_elink_history(root, uid)
        return out

    def search_category(
        self, link: LinkHistory, term: str, *, page_size: int, limit: int | None
    ) -> tuple[CategorySearch, LinkHistory]:
        """Search one category; returns the result and the (possibly renewed) link."""
        for attempt in range(MAX_RELINKS + 1):
            try:
                return self._search_anew_if_changed(link, term, page_size, limit), link
            except EutilsError as exc:
                if not HISTORY_LOST.search(exc.detail) or attempt == MAX_RELINKS:
                    raise
                log.warning("history session lost (%s); redoing the elink", exc.detail)
                link = replace(self.link_pubmed(link.uid, refresh=True), also=link.also)
        raise AssertionError("unreachable")

    def search_sets(
        self, links: Sequence[LinkHistory], term: str, *, page_size: int
    ) -> CategorySearch | None:
        """One search over the linked sets of one session, ``(#1 OR #2 ...) AND term``,
        where a search per set costs a request each. None when the session is lost:
        the caller then searches set by set (each set relinks itself)."""
        sessions = {link.webenv for link in links}
        keys = [f"#{link.query_key}" for link in links if link.query_key is not None]
        if len(sessions) != 1 or any(link.also for link in links):
            raise ValueError("search_sets takes plain linked sets of one session")
        if not keys:
            return CategorySearch(0, ())
        union = LinkHistory(links[0].uid, links[0].webenv, None, " OR ".join(keys))
        try:
            return self._search_anew_if_changed(union, term, page_size, None)
        except EutilsError as exc:
            if not HISTORY_LOST.search(exc.detail):
                raise
            log.warning("history session lost (%s); searching set by set", exc.detail)
            return None

    def _search_anew_if_changed(
        self, link: LinkHistory, term: str, page_size: int, limit: int | None
    ) -> CategorySearch:
        """A search whose Count changed between its pages is done once more, every
        page fetched anew (an earlier page may be the wrong one); then refused."""
        try:
            return self._search_all_pages(link, term, page_size, limit)
        except InconsistentAnswerError as exc:
            if self.offline:
                raise ResponseFormatError(f"{exc.detail}; refused", request=exc.request) from exc
            log.warning("%s; searching again from the first page", exc)
        try:
            return self._search_all_pages(link, term, page_size, limit, fresh=True)
        except InconsistentAnswerError as exc:
            raise ResponseFormatError(
                f"{exc.detail} (again when searched anew; refused)", request=exc.request
            ) from exc

    def _search_all_pages(
        self,
        link: LinkHistory,
        term: str,
        page_size: int,
        limit: int | None,
        *,
        fresh: bool = False,
    ) -> CategorySearch:
        """All PMIDs of ``#linked AND term``, most recent first, paging to Count;
        ``fresh`` reuses no stored page."""
        if link.empty:
            return CategorySearch(0, ())
        want = min(page_size, limit) if limit is not None else page_size
        first = self._search_page(link, term, retstart=0, retmax=min(want, CEILING), fresh=fresh)
        if first.count > CEILING and (limit is None or limit > CEILING):
            return self._search_sliced(link, term, first.count, page_size, limit, fresh=fresh)
        stop = min(first.count, limit) if limit is not None else first.count
        pmids = self._page_through(
            link, term, first.count, stop, page_size, list(first.ids), fresh=fresh
        )
        if len(set(pmids)) != stop:
            raise ResponseFormatError(
                f"esearch for {term!r}: Count {first.count} but {len(set(pmids))} distinct "
                f"ids paged out ({stop} due); refusing to keep a partial result"
            )
        return CategorySearch(first.count, tuple(pmids))

    def _page_through(
        self,
        link: LinkHistory,
        term: str,
        count: int,
        stop: int,
        page_size: int,
        ids: list[int],
        window: Slice | None = None,
        *,
        fresh: bool = False,
    ) -> list[int]:
        """``ids`` (the first page's, if any) and the pages after them up to ``stop``.

        Every page is vetted against ``count`` and the ids before it, so each
        one holds exactly the ids due and the loop ends.
        """
        while len(ids) < stop:
            page = self._search_page(
                link,
                term,
                retstart=len(ids),
                retmax=min(page_size, stop - len(ids)),
                window=window,
                count=count,
                seen=frozenset(ids),
                fresh=fresh,
            )
            ids.extend(page.ids)
        return ids

    def _search_sliced(
        self,
        link: LinkHistory,
        term: str,
        count: int,
        page_size: int,
        limit: int | None,
        *,
        fresh: bool = False,
    ) -> CategorySearch:
        """Past the ceiling: slice, fetch every slice, and prove the union complete."""
        leaves, _ = self.slice_search(link, term, count, fresh=fresh)
        seen: dict[int, None] = {}
        for leaf in leaves:
            ids = self._page_through(
                link, term, leaf.count, leaf.count, page_size, [], leaf, fresh=fresh
            )
            seen.update(dict.fromkeys(ids))
        if len(seen) != count:
            # A record can fall in two windows, so slices may add up to more than
            # Count, but their distinct union must be exactly Count.
            raise ResponseFormatError(
                f"the search for {term!r} matched {count} records, but its "
                f"{len(leaves)} date slices gave {len(seen)} distinct PMIDs; refusing "
                "to keep a partial result (NCBI may have changed mid-run: run again)"
            )
        pmids = list(seen)
        log.info("%r: %d records in %d slices", term, count, len(leaves))
        return CategorySearch(count, tuple(pmids[:limit] if limit else pmids), len(leaves))

    def slice_search(
        self, link: LinkHistory, term: str, count: int, *, fresh: bool = False
    ) -> tuple[list[Slice], int]:
        """Halve the whole search until every slice fits; leaves newest first, and
        how many count-only requests that took."""
        stack, leaves, requests = [Slice(count=count)], [], 0
        while stack:
            current = stack.pop()
            if current.count <= CEILING:
                if current.count:
                    leaves.append(current)
                continue
            for half in current.halves():
                counted = self._search_page(
                    link, term, retstart=0, retmax=0, window=half, fresh=fresh
                )
                requests += 1
                stack.append(replace(half, count=counted.count))
        leaves.sort(key=Slice.newest_first_key, reverse=True)
        return leaves, requests

    def plan_category(
        self, link: LinkHistory, term: str, *, page_size: int, limit: int | None
    ) -> tuple[int, int]:
        """(Count, requests a build will send) for one category, by count-only searches."""
        if link.empty:
            return 0, 0
        count = self._search_page(link, term, retstart=0, retmax=0).count
        if count <= CEILING or (limit is not None and limit <= CEILING):
            return count, pages(min(count, limit) if limit is not None else count, page_size)
        leaves, counting = self.slice_search(link, term, count)
        return count, 1 + counting + sum(pages(leaf.count, page_size) for leaf in leaves)

    def _search_page(
        self,
        link: LinkHistory,
        term: str,
        *,
        retstart: int,
        retmax: int,
        window: Slice | None = None,
        count: int | None = None,
        seen: Collection[int] = (),
        fresh: bool = False,
    ) -> SearchResult:
        """One page, vetted on its own and against ``seen`` (the ids of the pages
        before it) under the retry policy. A Count other than ``count`` (the
        search's, from its first page) cannot be cured by asking for this page
        again: it raises InconsistentAnswerError for the whole search to be redone."""
        query = f"{link.expression} AND {term}" + (window.term_suffix if window else "")
        request = EutilsRequest.make(
            "esearch",
            db="pubmed",
            term=query,
            WebEnv=link.webenv,
            usehistory="y",
            sort="pub_date",
            retstart=retstart,
            retmax=retmax,
            **(window.params if window else {}),
        )

        def vet(root: etree._Element) -> str | None:
            page = parse_esearch(root)
            if page.phrases_not_found or page.errors:
                return None  # refused below, as a term PubMed did not understand
            problem = search_page_problem(page, retstart=retstart, retmax=retmax, seen=seen)
            return None if problem is None else f"search {query!r}: {problem}"

        result = parse_esearch(self.fetch(request, refresh=fresh, vet=vet)[1])
        if result.phrases_not_found or result.errors:
            problems = [*result.phrases_not_found, *result.errors]
            # NCBI drops what it does not understand and answers unfiltered:
            # never take that answer as the category's citations.
            raise QueryTermError(
                f"PubMed did not understand {', '.join(map(repr, problems))} "
                f"in the filter term {term!r}",
                request=request.describe(),
            )
        if count is not None and result.count != count:
            raise InconsistentAnswerError(
                f"esearch: search {query!r}: Count {result.count} at retstart {retstart}, "
                f"but {count} on the search's first page",
                request=request.describe(),
            )
        return result

    def fetch_pubmed(self, pmids: Sequence[int]) -> bytes:
        ids = ",".join(str(p) for p in pmids)
        request = EutilsRequest.make("efetch", db="pubmed", id=ids, retmode="xml")
        return self.fetch(request)[0]

    def einfo(self, db: str) -> DbInfo:
        return parse_einfo(self.fetch(EutilsRequest.make("einfo", db=db))[1])


def _elink_request(uids: int | list[int]) -> EutilsRequest:
    """One UID as ``id=N`` (the request earlier versions stored), several as ``id=1&id=2``."""
    return EutilsRequest.make(
        "elink",
        dbfrom="medgen",
        db="pubmed",
        linkname="medgen_pubmed",
        id=uids,
        cmd="neighbor_history",
    )
