"""The command line: the only place errors become messages and exit codes.

medgen-etl build --concept C4725027 [--concept 1662593 ...] [--offline] ...
medgen-etl show C4725027 [--category therapy] [--limit 5]
medgen-etl verify [SNAPSHOT_DIR]
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from pipeline import __version__
from pipeline.config import Settings, load_settings
from pipeline.errors import MedgenEtlError, UsageError
from pipeline.listing import render_citations, render_header
from pipeline.load.reader import snapshot_view
from pipeline.load.snapshot import current_snapshot, verify
from pipeline.logs import configure as configure_logging
from pipeline.refs import parse_concept_ref, parse_concepts_file, unique
from pipeline.runner import BuildOptions, build, describe_plan, plan

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


def handled(fn: F) -> F:
    """Turn our errors into a one-line message and the error's exit status.

    Anything else is a bug: one line saying so (the traceback with -vv), exit 70.
    """

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MedgenEtlError as exc:
            _fail(str(exc), exc.exit_code)
        except Exception as exc:
            if log.isEnabledFor(logging.DEBUG):
                click.echo(_redact(traceback.format_exc()), err=True)
            _fail(
                f"internal error, please report it: {type(exc).__name__}: {exc} "
                "(-vv shows the traceback)",
                EXIT_INTERNAL,
            )

    return wrapper  # type: ignore[return-value]


@click.group()
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
) -> None:
    """Fetch, normalize and publish a snapshot; print its path."""
    refs = [parse_concept_ref(c) for c in concepts]
    if concepts_file is not None:
        try:
            text = concepts_file.read_text("utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {concepts_file}: {exc.strerror}") from exc
        refs += parse_concepts_file(text, str(concepts_file))
    if not refs:
        raise UsageError("give at least one --concept or a --concepts-file")
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
    )
    if dry_run:
        click.echo(describe_plan(plan(settings, options)))
        return
    result = build(settings, options)
    click.echo(str(result.snapshot))


@main.command(name="show")
@click.argument("concept")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("output"),
    show_default=True,
)
@click.option("--category", help="Only this category (e.g. therapy).")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="At most N citations per heading (the page shows 5).",
)
@handled
def show_command(concept: str, out: Path, category: str | None, limit: int | None) -> None:
    """Print a concept's citations from the current snapshot, as the MedGen page does."""
    view = snapshot_view(current_snapshot(out), concept)
    names = [c.name for c in view.categories]
    if category is not None and category not in names:
        raise UsageError(f"unknown category {category!r}; this snapshot has {', '.join(names)}")
    click.echo(render_header(view))
    click.echo()
    click.echo(render_citations(view, category=category, limit=limit))


@main.command(name="verify")
@click.argument("snapshot_dir", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("output"),
    show_default=True,
)
@handled
def verify_command(snapshot_dir: Path | None, out: Path) -> None:
    """Recompute every checksum and row count in a snapshot's manifest."""
    snapshot = snapshot_dir or current_snapshot(out)
    manifest = verify(snapshot)
    files = manifest["files"]
    rows = sum(f["rows"] for f in files.values())
    click.echo(
        f"ok {snapshot}: {len(files)} files, {rows} rows, content {manifest['content_hash'][:12]}"
    )
