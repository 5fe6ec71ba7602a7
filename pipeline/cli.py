"""The command line: the only place errors become messages and exit codes.

medgen-etl build --concept C4725027 [--concept 1662593 ...] [--offline] ...
medgen-etl show C4725027 [--snapshot ID] [--category therapy] [--limit 5]
medgen-etl verify [SNAPSHOT_DIR] [--snapshot ID]
medgen-etl diff [OLD [NEW]] [--concept C] [--category K] [--json]
medgen-etl report [--snapshot ID] [--concept C ...] [--html FILE]
medgen-etl snapshots [--json]
medgen-etl rebuild SNAPSHOT_ID [--into DIR]
medgen-etl gc --keep N [--dry-run]
medgen-etl raw migrate [--raw-dir DIR]
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TypeVar

import click

from pipeline import __version__
from pipeline.bulk.concept_files import ConceptFiles
from pipeline.bulk.medgen import read_all_medgen, read_medgen
from pipeline.bulk.runner import BulkOptions, bulk_build
from pipeline.config import Settings, load_settings
from pipeline.diff import diff_object, diff_snapshots, render_text
from pipeline.errors import MedgenEtlError, NoSnapshotError, RawStoreCorruptError, UsageError
from pipeline.extract.download import DEFAULT_BASE_URL, Downloader
from pipeline.extract.rawstore import RawStore
from pipeline.gc import describe as describe_gc
from pipeline.gc import gc
from pipeline.listing import citation_marks, demo_notice, render_citations, render_header
from pipeline.load import schemas
from pipeline.load.layout import CURRENT, SNAPSHOTS
from pipeline.load.manifest import MANIFEST, Manifest, load_manifest
from pipeline.load.reader import PublishedSnapshot, concept_view, open_snapshot
from pipeline.load.snapshot import current_snapshot, verify
from pipeline.load.snapshots import list_snapshots
from pipeline.logs import configure as configure_logging
from pipeline.models import ConceptRef
from pipeline.plan import describe_incremental_plan, describe_plan, plan, plan_incremental
from pipeline.rebuild import rebuild
from pipeline.refs import parse_concept_ref, read_concepts_file, unique
from pipeline.report import MAX_CONCEPTS, write_report
from pipeline.runner import BuildOptions, build
from pipeline.transform import evidence
from pipeline.wiring import download_limiter

F = TypeVar("F", bound=Callable[..., Any])


EXIT_INTERNAL = 70  # sysexits EX_SOFTWARE: a bug, not bad input

log = logging.getLogger("pipeline.cli")


def _redact(text: str) -> str:
    """Belt and braces: no message may carry the API key, whatever raised it."""
    key = os.environ.get("NCBI_API_KEY", "").strip()
    return text.replace(key, "***") if key else text


def _fail(message: str, code: int) -> None:
    click.echo(f"medgen-etl: error: {_redact(message)}", err=True)
    sys.exit(code)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """SIGINT or SIGTERM, raised where the program is, so every clean-up on the way
    out runs as for any failure (staging removed, lock released, journal kept).

    A BaseException, as KeyboardInterrupt is: no ``except Exception`` may swallow it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.name = signal.Signals(signum).name
        self.exit_code = 128 + signum  # the shell's convention: 130, 143


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    # One signal is enough: a second one must not cut the clean-up short.
    for other in STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    raise Interrupted(signum)


@contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """While a command runs, SIGINT and SIGTERM raise :class:`Interrupted`."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (a command run by a test harness)
        return
    saved = {signum: signal.signal(signum, _raise_interrupted) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def _reader_gone() -> NoReturn:
    """The program reading our output stopped (``| head``): exit as a program that
    SIGPIPE ended does, 141, with no message (the reader chose to stop), and point
    stdout at /dev/null so that flushing it at exit cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        pass  # stdout is no file (a test harness's buffer): nothing will flush into a pipe
    sys.exit(128 + signal.SIGPIPE)


def handled(fn: F) -> F:
    """Turn our errors into a one-line message and the error's exit status.

    SIGINT and SIGTERM exit 130 and 143 after the same clean-up as a failure; a
    reader that closed our output exits 141, quietly. Anything else is a bug: one
    line saying so (the traceback with -vv), exit 70.
    """

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with _stop_signals_raise():
                return fn(*args, **kwargs)
        except Interrupted as exc:
            _fail(f"interrupted by {exc.name}", exc.exit_code)
        except KeyboardInterrupt:  # SIGINT before the handler was in place
            _fail("interrupted by SIGINT", 128 + signal.SIGINT)
        except MedgenEtlError as exc:
            _fail(str(exc), exc.exit_code)
        except BrokenPipeError:
            _reader_gone()
        except Exception as exc:
            if log.isEnabledFor(logging.DEBUG):
                click.echo(_redact(traceback.format_exc()), err=True)
            _fail(
                f"internal error, please report it: {type(exc).__name__}: {exc} "
                "(-vv shows the traceback)",
                EXIT_INTERNAL,
            )

    return wrapper  # type: ignore[return-value]


@contextmanager
def _interrupt_exits() -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        click.echo("medgen-etl: error: interrupted by SIGINT", err=True)
        raise click.exceptions.Exit(128 + signal.SIGINT) from None


class InterruptibleGroup(click.Group):
    """A command group where Ctrl-C while the command line is read, before a command
    runs (``handled`` covers it from then on), exits 130 as during a command: click
    alone would print "Aborted!" and exit 1."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with _interrupt_exits():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with _interrupt_exits():
            return super().invoke(ctx)


@click.group(cls=InterruptibleGroup)
@click.version_option(__version__, prog_name="medgen-etl")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv: debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one object per line on stderr (run id, concept, utility, status, elapsed).",
)
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool, log_format: str) -> None:
    """MedGen concepts and their categorized PubMed citations, as Parquet snapshots."""
    default = logging.INFO if log_format == "json" else logging.WARNING
    levels = (default, logging.INFO, logging.DEBUG)
    level = logging.ERROR if quiet else levels[min(verbose, 2)]
    configure_logging(level, log_format, os.environ.get("NCBI_API_KEY", "").strip() or None)
    # A progress bar only for a person at a terminal, never in logs for machines.
    ctx.obj = {"progress": log_format == "text" and not quiet and sys.stderr.isatty()}


def _settings(config: Path | None, categories: Path | None, **overrides: Any) -> Settings:
    return load_settings(
        config_file=config, categories_file=categories, env=os.environ, overrides=overrides
    )


def _tables(spec: str | None) -> tuple[str, ...]:
    """``--tables a,b,...``: the tables to write, in snapshot order (None: all)."""
    if spec is None:
        return schemas.SELECTABLE
    named = [t.strip() for t in spec.split(",") if t.strip()]
    unknown = [t for t in named if t not in schemas.SELECTABLE]
    if unknown or not named:
        raise UsageError(
            f"unknown table(s) {', '.join(map(repr, unknown)) or 'none named'} in --tables; "
            f"choose among {', '.join(schemas.SELECTABLE)}"
        )
    return tuple(t for t in schemas.SELECTABLE if t in named)


def _evidence(spec: str) -> tuple[str, ...]:
    """``--evidence medgen,mesh``: where citations come from, in a fixed order."""
    named = [e.strip() for e in spec.split(",") if e.strip()]
    unknown = [e for e in named if e not in evidence.SOURCES]
    if unknown:
        raise UsageError(
            f"unknown evidence {', '.join(map(repr, unknown))} in --evidence; "
            f"choose among {', '.join(evidence.SOURCES)}"
        )
    if evidence.MEDGEN not in named:
        raise UsageError(f"--evidence must include {evidence.MEDGEN} (MedGen's links): {spec!r}")
    return tuple(e for e in evidence.SOURCES if e in named)


_EVIDENCE_HELP = (
    "Where citations come from, comma-separated [default: medgen]: medgen (MedGen's links) "
    "and mesh (articles indexed with the concept's MeSH descriptor or supplementary concept)."
)

_TABLES_HELP = (
    "Write only these tables, comma-separated [default: all]; concepts, rejects and changes "
    "are always written. articles,authors,journals,citations is the fastest."
)


@main.command(name="build")
@click.pass_context
@click.option(
    "--concept",
    "concepts",
    multiple=True,
    metavar="REF",
    help="CUI, MedGen UID or name (repeatable).",
)
@click.option(
    "--concepts-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="One reference per line; # comments.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output directory [default: output].",
)
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A pipeline.toml overriding the defaults.",
)
@click.option(
    "--categories",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A categories.toml replacing the default categories.",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Answer every request from the raw store; never touch the network.",
)
@click.option(
    "--raw-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Raw response store [default: OUT/raw].",
)
@click.option(
    "--per-category",
    type=click.IntRange(min=1),
    help="Keep at most N citations per category and concept.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    help="Total deadline per request, seconds [default: 30].",
)
@click.option(
    "--fresh", is_flag=True, help="Do not resume an interrupted run: fetch everything again."
)
@click.option("--allow-partial", is_flag=True, help="Exit 0 even if some concepts failed.")
@click.option(
    "--wait-lock",
    is_flag=True,
    help="Wait for another build on the same --out instead of exiting 75.",
)
@click.option(
    "--dry-run", is_flag=True, help="Print the request plan (count-only searches); write nothing."
)
@click.option("--tables", "table_spec", metavar="A,B,...", help=_TABLES_HELP)
@click.option("--evidence", "evidence_spec", metavar="A,B", default="medgen", help=_EVIDENCE_HELP)
@click.option(
    "--incremental",
    is_flag=True,
    help="Fetch only PMIDs the current snapshot lacks or PubMed modified since; carry the rest.",
)
@click.option(
    "--full",
    is_flag=True,
    help="With --incremental: fetch everything (as incremental.full_every_days does).",
)
@handled
def build_command(
    ctx: click.Context,
    concepts: tuple[str, ...],
    concepts_file: Path | None,
    out: Path | None,
    config: Path | None,
    categories: Path | None,
    offline: bool,
    raw_dir: Path | None,
    per_category: int | None,
    timeout: float | None,
    fresh: bool,
    allow_partial: bool,
    wait_lock: bool,
    dry_run: bool,
    table_spec: str | None,
    evidence_spec: str,
    incremental: bool,
    full: bool,
) -> None:
    """Fetch, normalize and publish a snapshot; print its path."""
    selected = _tables(table_spec)
    sources = _evidence(evidence_spec)
    refs = _refs(concepts, concepts_file)
    settings = _settings(config, categories, out_dir=out, timeout=timeout)
    options = BuildOptions(
        concepts=unique(refs),
        raw_dir=raw_dir or settings.out_dir / "raw",
        offline=offline,
        per_category=per_category,
        fresh=fresh,
        allow_partial=allow_partial,
        wait_lock=wait_lock,
        progress=bool(ctx.obj and ctx.obj.get("progress")),
        tables=selected,
        evidence=sources,
        incremental=incremental,
        full=full,
    )
    if dry_run and incremental:
        click.echo(describe_incremental_plan(plan_incremental(settings, options)))
        return
    if dry_run:
        click.echo(describe_plan(plan(settings, options)))
        return
    result = build(settings, options)
    click.echo(str(result.snapshot))


_OUT = click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("output"),
    show_default=True,
    help="The output directory.",
)
_SNAPSHOT = click.option(
    "--snapshot", "snapshot_id", metavar="ID", help="A snapshot id [default: current]."
)


@main.command(name="show")
@click.argument("concept")
@_OUT
@_SNAPSHOT
@click.option("--category", help="Only this category (e.g. therapy).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="At most N citations per heading (the page shows 5).",
)
@click.option(
    "--annotate",
    is_flag=True,
    help="Mark retracted, corrected (erratum) and concerned-about citations after their PMID.",
)
@handled
def show_command(
    concept: str,
    out: Path,
    snapshot_id: str | None,
    category: str | None,
    limit: int | None,
    annotate: bool,
) -> None:
    """Print a concept's citations from the current snapshot, as the MedGen page does.

    --out is an output directory; a snapshot directory (e.g. output/current) works too.
    """
    published = open_snapshot(_snapshot(out, snapshot_id))
    view = concept_view(published, concept)
    _note_provenance(published.manifest)
    names = [c.name for c in view.categories]
    if category is not None and category not in names:
        raise UsageError(f"unknown category {category!r}; this snapshot has {', '.join(names)}")
    click.echo(render_header(view))
    click.echo()
    marks = citation_marks(published) if annotate else None
    click.echo(render_citations(view, category=category, limit=limit, marks=marks))


@main.command(name="verify")
@click.argument("snapshot_dir", required=False, type=click.Path(path_type=Path, file_okay=False))
@_OUT
@_SNAPSHOT
@handled
def verify_command(snapshot_dir: Path | None, out: Path, snapshot_id: str | None) -> None:
    """Recompute every checksum and row count in a snapshot's manifest."""
    if snapshot_dir is not None and snapshot_id is not None:
        raise UsageError("give a SNAPSHOT_DIR or --snapshot ID, not both")
    snapshot = snapshot_dir or _snapshot(out, snapshot_id)
    manifest = verify(snapshot)
    rows = sum(f.rows for f in manifest.files.values())
    digest = (manifest.content_hash or "")[:12]
    click.echo(f"ok {snapshot}: {len(manifest.files)} files, {rows} rows, content {digest}")


@main.command(name="diff")
@click.argument("old_id", metavar="[OLD", required=False)
@click.argument("new_id", metavar="[NEW]]", required=False)
@_OUT
@click.option("--concept", metavar="REF", help="Only this concept (CUI, MedGen UID or name).")
@click.option("--category", help="Only this category (e.g. therapy).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
@handled
def diff_command(
    old_id: str | None,
    new_id: str | None,
    out: Path,
    concept: str | None,
    category: str | None,
    as_json: bool,
) -> None:
    """What changed from snapshot OLD to NEW: added, removed, modified, retracted citations.

    NEW defaults to the current snapshot, OLD to NEW's parent (none: every citation
    of NEW is added, as its changes table says). Exits 0 when nothing
    differs, 1 when something does (as diff(1) does), 2 on a usage error, 66 when a
    snapshot is not there.
    """
    new = open_snapshot(_snapshot(out, new_id))
    old_path = _snapshot(out, old_id) if old_id is not None else _parent(new)
    old = None if old_path is None else open_snapshot(old_path)
    result = diff_snapshots(old, new, concept, category)
    for warning in result.warnings:
        log.warning("%s", warning)
    if as_json:
        click.echo(json.dumps(diff_object(result), indent=1, sort_keys=True))
    else:
        click.echo(render_text(result))
    sys.exit(1 if result.differs else 0)


def _parent(snapshot: PublishedSnapshot) -> Path | None:
    """The snapshot ``snapshot``'s manifest names as its parent, beside it (None: none)."""
    parent = snapshot.manifest.parent
    if parent is None:
        return None
    path = snapshot.path.parent / parent
    if not (path / MANIFEST).is_file():
        raise NoSnapshotError(
            f"the parent {parent} of snapshot {snapshot.path.name} is not in "
            f"{snapshot.path.parent} (removed by gc?): name the snapshot to compare it with"
        )
    return path


@main.command(name="report")
@_OUT
@_SNAPSHOT
@click.option(
    "--concept", "concepts", multiple=True, metavar="REF", help="Only these concepts (repeatable)."
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write [default: report-<snapshot id>.html].",
)
@click.option(
    "--max-concepts",
    type=click.IntRange(min=0),
    default=MAX_CONCEPTS,
    show_default=True,
    help="A row and a section for at most this many concepts, those with the most "
    "citations (0: all); the overview counts every concept.",
)
@handled
def report_command(
    out: Path,
    snapshot_id: str | None,
    concepts: tuple[str, ...],
    html_file: Path | None,
    max_concepts: int,
) -> None:
    """Write one self-contained HTML page about a snapshot; print its path."""
    snapshot = _snapshot(out, snapshot_id)
    _note_provenance(load_manifest(snapshot))
    target = html_file or Path(f"report-{snapshot.name}.html")
    click.echo(str(write_report(snapshot, target, concepts, max_concepts or None)))


def _note_provenance(manifest: Manifest) -> None:
    """The demo notice, as a log line on stderr: stdout stays the data (show: the page's
    listing, byte for byte), and --log-format json keeps one object per line."""
    notice = demo_notice(manifest)
    if notice:
        log.warning("%s", notice)


def _snapshot(out: Path, snapshot_id: str | None) -> Path:
    """The snapshot to read: ``--snapshot ID`` in the output directory ``--out``, or
    its current one; an ``--out`` that is itself a snapshot (``output/current``,
    ``output/snapshots/<id>``) is that snapshot."""
    if (out / MANIFEST).is_file():
        if snapshot_id is not None:
            raise UsageError(
                f"--out {out} is a snapshot, not an output directory: pass "
                f"--out {_output_of(out)} --snapshot {snapshot_id}, or --out {out} alone"
            )
        return out.resolve()
    if snapshot_id is None:
        return current_snapshot(out)
    if "/" in snapshot_id or snapshot_id.startswith("."):
        raise UsageError(f"--snapshot takes a snapshot id, not a path: {snapshot_id!r}")
    path = out / SNAPSHOTS / snapshot_id
    if not (path / MANIFEST).is_file():
        raise NoSnapshotError(
            f"no snapshot {snapshot_id!r} in {out / SNAPSHOTS} (`medgen-etl snapshots` lists them)"
        )
    return path


def _output_of(snapshot: Path) -> Path:
    """The output directory a snapshot path lives in (``<out>/current`` or
    ``<out>/snapshots/<id>``)."""
    if snapshot.name == CURRENT:
        return snapshot.parent
    return snapshot.resolve().parent.parent


def _refs(concepts: tuple[str, ...], concepts_file: Path | None) -> list[ConceptRef]:
    refs = [parse_concept_ref(c) for c in concepts]
    if concepts_file is not None:
        try:
            data = concepts_file.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {concepts_file}: {exc.strerror}") from exc
        refs += read_concepts_file(data, str(concepts_file))
    if not refs:
        raise UsageError("give at least one --concept or a --concepts-file")
    return refs


_EXISTING = click.Path(path_type=Path, exists=True, dir_okay=False)


@main.command(name="bulk")
@click.option("--concept", "concepts", multiple=True, metavar="REF", help="CUI or MedGen UID.")
@click.option("--concepts-file", type=_EXISTING, help="One reference per line; # comments.")
@click.option(
    "--all-concepts",
    is_flag=True,
    help="Every concept of the links file (offline categories only).",
)
@click.option("--links", type=_EXISTING, required=True, help="medgen_pubmed_lnk.txt.gz")
@click.option("--names", type=_EXISTING, help="NAMES.RRF.gz")
@click.option("--definitions", type=_EXISTING, help="MGDEF.RRF.gz")
@click.option("--conso", type=_EXISTING, help="MGCONSO.RRF.gz (concept_codes, omim, mesh_ids)")
@click.option("--semantic-types", type=_EXISTING, help="MGSTY.RRF.gz")
@click.option("--relations", type=_EXISTING, help="MGREL.RRF.gz (concept_relations)")
@click.option(
    "--hpo-omim", type=_EXISTING, help="MedGen_HPO_OMIM_Mapping.txt.gz (features, inheritance)"
)
@click.option("--mim2gene", type=_EXISTING, help="mim2gene_medgen (concept_genes)")
@click.option(
    "--pubmed",
    "pubmed",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path, exists=True),
    help="PubMed baseline/update files or folders of them (applied in file-number order).",
)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False))
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--online",
    is_flag=True,
    help="Categories by E-utilities searches (as build); efetch PMIDs the files lack.",
)
@click.option("--categories", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--raw-dir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--executor",
    type=click.Choice(["process", "dask", "serial"]),
    default="process",
    show_default=True,
)
@click.option("--scheduler", help="Dask scheduler address (with --executor dask).")
@click.option("--workers", type=click.IntRange(min=1), help="Processes [default: CPU count].")
@click.option("--per-category", type=click.IntRange(min=1))
@click.option("--allow-partial", is_flag=True)
@click.option("--wait-lock", is_flag=True)
@click.option("--tables", "table_spec", metavar="A,B,...", help=_TABLES_HELP)
@click.option("--evidence", "evidence_spec", metavar="A,B", default="medgen", help=_EVIDENCE_HELP)
@click.option(
    "--update",
    is_flag=True,
    help="Apply only the PubMed files the current snapshot does not list, over it "
    "(same other arguments as the bulk that made it).",
)
@click.option(
    "--verify-inputs",
    is_flag=True,
    help="With --update: hash every PubMed file the snapshot lists, even those hashed on an "
    "earlier night and unchanged since (same inode, size, mtime and ctime).",
)
@handled
def bulk_command(
    concepts: tuple[str, ...],
    concepts_file: Path | None,
    all_concepts: bool,
    links: Path,
    names: Path | None,
    definitions: Path | None,
    conso: Path | None,
    semantic_types: Path | None,
    relations: Path | None,
    hpo_omim: Path | None,
    mim2gene: Path | None,
    pubmed: tuple[Path, ...],
    out: Path | None,
    config: Path | None,
    online: bool,
    categories: Path | None,
    raw_dir: Path | None,
    executor: str,
    scheduler: str | None,
    workers: int | None,
    per_category: int | None,
    allow_partial: bool,
    wait_lock: bool,
    table_spec: str | None,
    evidence_spec: str,
    update: bool,
    verify_inputs: bool,
) -> None:
    """Build a snapshot from MedGen and PubMed bulk files; print its path.

    Offline, categories come from the links and publication types only (the
    PubMed filters are search-engine features): linked, professional
    guidelines, systematic reviews and meta-analyses; the manifest says so.
    With --online they come from E-utilities searches as in build, and linked
    PMIDs the files lack are fetched by efetch.
    """
    if verify_inputs and not update:
        raise UsageError("--verify-inputs checks the files --update carries over: give --update")
    selected = _tables(table_spec)
    sources = _evidence(evidence_spec)
    if evidence.MESH in sources and (all_concepts or conso is None):
        raise UsageError(
            "--evidence mesh needs --conso (the concepts' MeSH ids come from MGCONSO) "
            "and a list of concepts (not --all-concepts)"
        )
    settings = _settings(config, categories, out_dir=out)
    if online:
        settings.require_email()
    if all_concepts and (concepts or concepts_file or online):
        raise UsageError(
            "--all-concepts takes no --concept/--concepts-file, and is offline only: "
            "some 237,000 concepts would be 1.9 million E-utilities requests"
        )
    files = ConceptFiles(conso, semantic_types, relations, hpo_omim, mim2gene)
    if all_concepts:
        medgen = read_all_medgen(links, names, definitions, files)
    else:
        refs = unique(_refs(concepts, concepts_file))
        medgen = read_medgen(refs, links, names, definitions, files)
    options = BulkOptions(
        pubmed=pubmed,
        online=online,
        raw_dir=raw_dir,
        executor=executor,
        scheduler=scheduler,
        workers=workers,
        per_category=per_category,
        allow_partial=allow_partial,
        wait_lock=wait_lock,
        tables=selected,
        evidence=sources,
        update=update,
        verify_inputs=verify_inputs,
    )
    snapshot, _ = bulk_build(settings, medgen, options)
    click.echo(str(snapshot))


MEDGEN_FILES = (
    "pub/medgen/medgen_pubmed_lnk.txt.gz",
    "pub/medgen/NAMES.RRF.gz",
    "pub/medgen/MGDEF.RRF.gz",
    "pub/medgen/MGCONSO.RRF.gz",
    "pub/medgen/MGSTY.RRF.gz",
    "pub/medgen/MGREL.RRF.gz",
    "pub/medgen/MedGen_HPO_OMIM_Mapping.txt.gz",
    "gene/DATA/mim2gene_medgen",
)
PUBMED_FILE = r"pubmed\d+n\d{4}\.xml\.gz"


@main.command(name="download")
@click.argument("paths", nargs=-1)
@click.option("--baseline", is_flag=True, help="Every PubMed baseline file.")
@click.option("--updates", is_flag=True, help="Every PubMed update file.")
@click.option("--medgen", is_flag=True, help="MedGen's links, names, definitions, concept files.")
@click.option(
    "--dest",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("downloads"),
    show_default=True,
)
@click.option("--base-url", envvar="NCBI_FTP_URL", default=DEFAULT_BASE_URL, show_default=True)
@click.option("--idle-timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True)
@click.option("--allow-missing-md5", is_flag=True, help="Accept files published without a .md5.")
@click.pass_context
@handled
def download_command(
    ctx: click.Context,
    paths: tuple[str, ...],
    baseline: bool,
    updates: bool,
    medgen: bool,
    dest: Path,
    base_url: str,
    idle_timeout: float,
    allow_missing_md5: bool,
) -> None:
    """Fetch NCBI's bulk files with their .md5 checks, resuming partial downloads.

    PATHS are remote paths under the base URL (e.g. pub/medgen/NAMES.RRF.gz).
    Prints each local path; a file already present and verified is skipped.
    """
    settings = _settings(None, None)
    downloader = Downloader(
        base_url,
        policy=settings.retry,
        idle_timeout=idle_timeout,
        limiter=download_limiter(settings, base_url),
        require_md5=not allow_missing_md5,
    )
    remote = list(paths) + (list(MEDGEN_FILES) if medgen else [])
    if baseline:
        remote += downloader.list_directory("pubmed/baseline", PUBMED_FILE)
    if updates:
        remote += downloader.list_directory("pubmed/updatefiles", PUBMED_FILE)
    if not remote:
        raise UsageError("name files to fetch, or use --baseline, --updates or --medgen")
    for result in downloader.fetch_all(remote, dest):
        log.info("%s %s", result.outcome, result.path)
        click.echo(str(result.path))


# ------------------------------------------------------------------ snapshots


_RAW = click.option(
    "--raw-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Raw response store [default: OUT/raw].",
)


@main.command(name="snapshots")
@_OUT
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@handled
def snapshots_command(out: Path, as_json: bool) -> None:
    """List the published snapshots, oldest first; * marks the current one."""
    snapshots = list_snapshots(out)
    if as_json:
        click.echo(json.dumps([s.as_json() for s in snapshots], indent=1))
        return
    if not snapshots:
        raise NoSnapshotError(f"no published snapshot in {out} (run `medgen-etl build` first)")
    click.echo(
        "  id                            created                      source  kind        "
        "parent                        concepts       rows        bytes"
    )
    for s in snapshots:
        click.echo(
            f"{'*' if s.current else ' '} {s.id:<29} {s.created or '-':<28} "
            f"{s.source or '-':<7} {s.kind or '-':<11} {s.parent or '-':<29} {s.concepts:>8} "
            f"{s.rows:>10,} "
            f"{s.bytes:>12,}"
        )


@main.command(name="rebuild")
@click.argument("snapshot_id")
@_OUT
@_RAW
@click.option(
    "--into",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output directory to publish the rebuild in [default: rebuilt-SNAPSHOT_ID].",
)
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--wait-lock", is_flag=True, help="Wait for another build on --into.")
@handled
def rebuild_command(
    snapshot_id: str,
    out: Path,
    raw_dir: Path | None,
    into: Path | None,
    config: Path | None,
    wait_lock: bool,
) -> None:
    """Rebuild a snapshot offline from the raw answers its manifest names; print its path.

    The rebuild is published as the current snapshot of its own output directory
    (--into); OUT and its current snapshot are left as they are. Its Parquet files
    are those of the original, byte for byte (a warning names any that differ,
    e.g. after a pyarrow upgrade).
    """
    original = _snapshot(out, snapshot_id)
    settings = _settings(config, None)
    result = rebuild(
        settings,
        original,
        raw_dir=raw_dir or _output_of(original) / "raw",
        into=into or Path(f"rebuilt-{original.name}"),
        wait_lock=wait_lock,
    )
    click.echo(str(result.build.snapshot))


@main.command(name="gc")
@click.option("--keep", type=click.IntRange(min=1), required=True, help="Keep the N newest.")
@click.option("--dry-run", is_flag=True, help="Print what would be removed; remove nothing.")
@_OUT
@_RAW
@click.option("--wait-lock", is_flag=True, help="Wait for a build on --out instead of exiting 75.")
@handled
def gc_command(keep: int, dry_run: bool, out: Path, raw_dir: Path | None, wait_lock: bool) -> None:
    """Remove all but the N newest snapshots (never the current one) and the raw
    answers no kept snapshot and no unfinished run needs; print what is freed.

    The raw store must serve this output directory only (the default OUT/raw).
    """
    result = gc(out, raw_dir or out / "raw", keep=keep, dry_run=dry_run, wait_lock=wait_lock)
    click.echo(describe_gc(result))


@main.group(name="raw")
def raw_group() -> None:
    """The raw response store."""


@raw_group.command(name="migrate")
@_OUT
@_RAW
@handled
def raw_migrate_command(out: Path, raw_dir: Path | None) -> None:
    """Move a raw store of the earlier layout (<utility>/<key>.xml) to objects and answers.

    Safe to run again (a killed migration is finished by the next); a corrupt entry
    is left where it is, named, and the command exits 74.
    """
    store = RawStore(raw_dir or out / "raw")
    report = store.migrate()
    click.echo(f"migrated {report.entries} entries ({report.objects} new objects) in {store.root}")
    for path in report.left:
        log.warning("left %s: not an entry of the earlier layout", path)
    if report.corrupt:
        raise RawStoreCorruptError(
            f"{len(report.corrupt)} corrupt entries left unmigrated: " + "; ".join(report.corrupt),
            path=str(store.root),
        )
