"""What both runners write into a snapshot's manifest about the run that made it."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from pipeline.extract.client import EutilsClient
from pipeline.models import Category


def category_entries(categories: Sequence[Category]) -> list[dict[str, str | None]]:
    return [
        {
            "name": c.name,
            "heading": c.heading,
            "group": c.group,
            "subheading": c.subheading,
            "term": c.term,
        }
        for c in categories
    ]


def response_entries(client: EutilsClient) -> list[dict[str, Any]]:
    """Every raw response the snapshot was built from, in a stable order."""
    used = sorted(client.used.values(), key=lambda r: (r.utility, r.key))
    return [{"utility": r.utility, "key": r.key, "sha256": r.sha256, "bytes": r.size} for r in used]


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("medgen-etl", "biopython", "pyarrow", "lxml", "pandas", "tenacity", "click"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out
