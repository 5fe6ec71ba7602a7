"""The runners are siblings over shared parts: the stages import no runner, and the
bulk runner does not import the E-utilities one. Read from the source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"
RUNNERS = ("pipeline.runner", "pipeline.bulk.runner", "pipeline.bulk")
STAGES = ("extract", "transform", "load")


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, root: Path = PACKAGE.parent) -> set[str]:
    """Every module ``path`` (under ``root``) imports; ``from x import y`` also counts
    as ``x.y``, and relative imports are made absolute."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    here = module_name(path, root).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here[: len(here) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_the_import_reader_sees_from_and_relative_imports(tmp_path):
    package = tmp_path / "pipeline" / "bulk"
    package.mkdir(parents=True)
    source = package / "x.py"
    source.write_text("import os\nfrom pipeline import runner\nfrom . import merge\n")
    names = imported(source, tmp_path)
    assert {"os", "pipeline.runner", "pipeline.bulk.merge"} <= names


@pytest.mark.parametrize("path", modules(PACKAGE / "bulk"), ids=lambda p: p.name)
def test_nothing_under_bulk_imports_the_eutils_runner(path):
    assert "pipeline.runner" not in imported(path)


@pytest.mark.parametrize(
    "path",
    [p for stage in STAGES for p in modules(PACKAGE / stage)],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_the_stage_packages_import_no_runner(path):
    names = imported(path)
    assert not [n for n in names if n in RUNNERS or n.startswith("pipeline.bulk.")], names


def test_the_records_that_cross_modules_are_models():
    from pipeline import models

    assert models.MedgenInput.__module__ == "pipeline.models"
    assert models.CitationRow.__module__ == "pipeline.models"
