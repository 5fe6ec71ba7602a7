"""How a run is wired to NCBI: the client, its limiter, raw store and journal.

Both runners (``pipeline/runner.py`` for E-utilities, ``pipeline/bulk/`` for
the FTP files) are made from these parts and import nothing from each other.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import NcbiError, RawStoreError
from pipeline.extract.client import EutilsClient
from pipeline.extract.download import DEFAULT_RATE as DOWNLOAD_RATE
from pipeline.extract.entrez import EntrezGateway
from pipeline.extract.ratelimit import Limiter, RateLimiter, open_shared
from pipeline.extract.rawstore import DEMO_SOURCE, RawStore, RunJournal, read_provenance
from pipeline.extract.store_users import register_output
from pipeline.models import ConceptRef, DbInfo

log = logging.getLogger(__name__)

# A raw-store write takes well under a second; an hour-old temporary file is orphaned.
ORPHAN_GRACE_SECONDS = 3600.0


def run_id(
    settings: Settings,
    concepts: Sequence[ConceptRef],
    per_category: int | None,
    extra: Sequence[object] = (),
) -> str:
    """Same arguments, same id: how a rerun finds the journal of a killed run.

    ``extra``: facts only some runs have (appended, so runs without them keep their ids).
    """
    facts = [
        [(r.kind, r.value) for r in concepts],
        settings.categories_hash,
        per_category,
        settings.eutils_url,
        settings.search_page_size,
        settings.efetch_batch_size,
        *extra,
    ]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:24]


def make_limiter(settings: Settings) -> Limiter:
    """The limiter every live request takes: shared with this machine's other runs."""
    keyed = bool(settings.api_key)
    return _limiter(settings, settings.requests_per_second, settings.eutils_url, keyed=keyed)


def download_limiter(settings: Settings, base_url: str) -> Limiter:
    """The limiter of bulk-file downloads from ``base_url``: shared, as the E-utilities
    one is, by every download on this machine (two at once ask no faster than one)."""
    return _limiter(settings, DOWNLOAD_RATE, base_url, keyed=False)


def _limiter(settings: Settings, rate: float, url: str, *, keyed: bool) -> Limiter:
    """``rate`` requests a second to ``url``'s host, shared through rate_limit_dir
    (None: this process only)."""
    if settings.rate_limit_dir is None:
        return RateLimiter(rate)
    return open_shared(rate, settings.rate_limit_dir, url, keyed=keyed)


def eutils_client(
    settings: Settings,
    raw_dir: Path,
    *,
    run: str,
    offline: bool = False,
    fresh: bool = False,
    dry_run: bool = False,
) -> EutilsClient:
    """The client of a run named ``run`` (its journal), storing answers in ``raw_dir``.

    Offline it only reads the store; a dry run sends but records nothing.
    """
    store = RawStore(raw_dir)
    policy = settings.retry
    if not dry_run:
        _note_output(raw_dir, settings.out_dir, offline=offline)
    if offline:
        return EutilsClient(store=store, gateway=None, limiter=None, policy=policy)
    gateway = EntrezGateway(
        base_url=settings.eutils_url,
        tool=settings.tool,
        email=settings.require_email(),
        api_key=settings.api_key.reveal() if settings.api_key else None,
        timeout=settings.timeout,
        limits=settings.limits,
    )
    limiter = make_limiter(settings)
    if dry_run:
        return EutilsClient(
            store=store, gateway=gateway, limiter=limiter, policy=policy, record=False
        )
    journal = RunJournal(store, run)
    if fresh:
        journal.discard()
    store.remove_orphan_temps(older_than=orphan_grace(raw_dir, settings.out_dir))
    return EutilsClient(
        store=store, gateway=gateway, limiter=limiter, policy=policy, journal=journal
    )


def _note_output(raw_dir: Path, out_dir: Path, *, offline: bool) -> None:
    """Leave the output directory's name in the store, for gc elsewhere (store_users.py).

    The shipped demo store is never written. Offline, a store that cannot be written
    (a read-only copy) is read all the same, and the run says what that costs.
    """
    if read_provenance(raw_dir).source == DEMO_SOURCE:
        return
    try:
        register_output(raw_dir, out_dir)
    except RawStoreError as exc:
        if not offline:
            raise
        log.warning("%s: gc in another output directory sharing it will not know this one", exc)


def orphan_grace(raw_dir: Path, out_dir: Path) -> float:
    """How old a raw-store temporary file must be before a run removes it.

    The output lock (held while the client is made) covers a raw store inside
    the output directory, so any temporary file there was left by a killed run;
    a store elsewhere may be shared by a build writing it right now.
    """
    inside = raw_dir.resolve().is_relative_to(out_dir.resolve())
    return 0.0 if inside else ORPHAN_GRACE_SECONDS


def database_info(client: EutilsClient, db: str) -> tuple[DbInfo, str | None]:
    """DbBuild and LastUpdate, or a warning: they are provenance, not data, so a
    server that cannot say is noted in the manifest instead of failing the run."""
    try:
        return client.einfo(db), None
    except NcbiError as exc:
        return DbInfo(db, None, None, None), f"einfo db={db} failed ({exc}); DbBuild unknown"
