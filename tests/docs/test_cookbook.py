"""Every snippet of docs/cookbook.md runs against a real snapshot and returns the rows it shows.

A recipe names its snapshot in a comment (``<!-- cookbook: demo -->`` or ``world``); each
snippet names its engine on its first line and leaves its answer in ``result``; the first
table after the snippets holds the rows, all of them unless a ``(first N of M rows)``
line follows it.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

COOKBOOK = ROOT / "docs" / "cookbook.md"
ENGINES = ("duckdb", "polars", "pandas")
FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)
PARTIAL = re.compile(r"\(first (\d+) of (\d+) rows\b")


@dataclass(frozen=True)
class Recipe:
    title: str
    world: str
    snippets: dict[str, str]
    rows: list[tuple[str, ...]]
    total: int


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    return {p.split("\n", 1)[0].strip(): p for p in parts}


def _table(text: str) -> tuple[list[tuple[str, ...]], int]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    rows = [tuple(c.strip() for c in line.strip("|").split("|")) for line in lines[2:]]
    partial = PARTIAL.search(text)
    return rows, int(partial.group(2)) if partial else len(rows)


def recipes() -> list[Recipe]:
    out = []
    for title, body in _sections(COOKBOOK.read_text("utf-8")).items():
        world = re.search(r"<!-- cookbook: (\w+) -->", body)
        if world is None:
            continue
        snippets = {}
        for code in FENCE.findall(body):
            engine = code.split("\n", 1)[0].removeprefix("# ").strip()
            snippets[engine] = code
        rows, total = _table(body[body.rindex("```") :])
        out.append(Recipe(title, world.group(1), snippets, rows, total))
    return out


def setup_code() -> str:
    [code] = FENCE.findall(_sections(COOKBOOK.read_text("utf-8"))["Setup"])
    return str(code)


def as_rows(result: Any) -> list[tuple[Any, ...]]:
    if hasattr(result, "fetchall"):  # a DuckDB relation
        return [tuple(r) for r in result.fetchall()]
    if hasattr(result, "itertuples"):  # pandas
        return list(result.itertuples(index=False, name=None))
    if hasattr(result, "rows"):  # polars
        return [tuple(r) for r in result.rows()]
    return [tuple(r) for r in result]  # Spark's collect(): Rows are tuples


def cell(value: Any) -> str:
    return "null" if value is None else str(value)


def run(recipe: Recipe, engine: str, snapshot: Path) -> list[tuple[str, ...]]:
    namespace: dict[str, Any] = {}
    exec(setup_code(), namespace)
    assert namespace["snapshot"] == "output/current"
    namespace["snapshot"] = str(snapshot)
    exec(recipe.snippets[engine], namespace)
    return [tuple(cell(v) for v in row) for row in as_rows(namespace["result"])]


CASES = [(r, e) for r in recipes() for e in ENGINES]


def test_the_cookbook_has_recipes_each_in_every_engine():
    assert len(recipes()) >= 4
    for recipe in recipes():
        assert set(ENGINES) <= set(recipe.snippets), recipe.title
        assert recipe.rows, recipe.title


@pytest.mark.parametrize(
    ("recipe", "engine"), CASES, ids=[f"{r.title.split('.')[0]}-{e}" for r, e in CASES]
)
def test_a_cookbook_snippet_returns_the_rows_the_text_shows(recipe, engine, request):
    snapshot = request.getfixturevalue(f"{recipe.world}_snapshot")
    rows = run(recipe, engine, snapshot)
    assert len(rows) == recipe.total
    assert rows[: len(recipe.rows)] == recipe.rows


SPARK = [r for r in recipes() if "spark" in r.snippets]


@pytest.fixture(scope="module")
def spark():
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed (not a dependency: it is large); pip install pyspark")
    if shutil.which("java") is None:
        pytest.skip("pyspark needs Java: no `java` on PATH")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.mark.parametrize("recipe", SPARK, ids=[r.title.split(".")[0] for r in SPARK])
def test_a_spark_snippet_returns_the_rows_the_text_shows(recipe, spark, request):
    snapshot = request.getfixturevalue(f"{recipe.world}_snapshot")
    rows = run(recipe, "spark", snapshot)
    assert len(rows) == recipe.total
    assert rows[: len(recipe.rows)] == recipe.rows
