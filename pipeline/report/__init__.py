"""The snapshot report: one self-contained HTML page (see ``html``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import ReportError
from pipeline.load.survey import MAX_CONCEPTS, survey
from pipeline.report.html import render

__all__ = ["MAX_CONCEPTS", "write_report"]


def write_report(
    snapshot: Path,
    target: Path,
    concepts: Sequence[str] = (),
    max_concepts: int | None = MAX_CONCEPTS,
) -> Path:
    """Render the report of ``snapshot`` into ``target`` (written whole, then renamed);
    ``max_concepts``: how many concepts get a row and a section (None: all)."""
    page = render(survey(snapshot, concepts, max_concepts))
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(page, "utf-8")
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target
